// A worker on a real SQLite file with a clock the test moves: retries and Retry-After are tested without sleeping.
import { join } from "node:path";
import { type ActOptions, actOnFindings } from "../../src/revoke/act.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { type RevocationOutcome, RevocationWorker, type WorkerOptions } from "../../src/revoke/worker.js";
import { locate } from "../../src/scan/locate.js";
import { loadRules } from "../../src/scan/rules.js";
import { createEngine, DEFAULT_ENGINE_SETTINGS } from "../../src/scan/settings.js";
import type { Finding } from "../../src/scan/types.js";
import { openStore } from "../../src/store/index.js";

export const ENTRA = "entra-access-token-for-tests";
export const AUTH_ID = "7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b";

const engine = createEngine(DEFAULT_ENGINE_SETTINGS);
const rules = loadRules([]);

/** What a scan of `text` finds, as a file called `file`. */
export function scanText(text: string, file = "leak.txt"): Finding[] {
  const bytes = Buffer.from(text);
  return locate(bytes, engine.detect(bytes), { file });
}

let counter = 0;

export async function harness(dir: string, options: Partial<WorkerOptions> & { maxAttempts?: number } = {}) {
  const clock = { now: new Date("2026-11-28T10:00:00.000Z") };
  const path = join(dir, `worker-${++counter}.db`);
  const store = await openStore({ path, env: {}, clock: () => clock.now, actor: "test" });
  const revokers = createRevokers({}, { adoToken: ENTRA, timeoutMs: 200, now: () => clock.now.getTime() });
  const logs: string[] = [];
  const sleeps: number[] = [];
  const outcomes: RevocationOutcome[] = [];
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  const worker = new RevocationWorker({
    store,
    revokers,
    random: () => 0.5,
    retry: { baseMs: 1000, maxMs: 60_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
      advance(ms);
    },
    log: (line) => logs.push(line),
    ...options,
  });
  worker.onOutcome((o) => outcomes.push(o));
  return {
    clock,
    advance,
    path,
    store,
    revokers,
    worker,
    logs,
    sleeps,
    outcomes,
    act: (findings: Finding[], act: ActOptions) =>
      actOnFindings(store, revokers, rules, findings, { maxAttempts: options.maxAttempts, ...act }),
    actions: async () => (await store.audit.list()).map((e) => e.action),
    at: (ms: number) => new Date(clock.now.getTime() + ms).toISOString(),
  };
}
