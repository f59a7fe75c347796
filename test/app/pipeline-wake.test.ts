// On PostgreSQL every stage of the App is woken by the job notifications of any replica, and looks at the queue
// on its own only as a slow safety net: an idle replica does not query the queue every second.
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ALERT_KIND } from "../../src/alerts/queue.js";
import { BACKFILL_KIND } from "../../src/app/backfill-jobs.js";
import { GitCache } from "../../src/app/git-cache.js";
import { Pipeline, type PipelineOptions, URGENT_QUIET_MS } from "../../src/app/pipeline.js";
import { PULL_REQUEST_KIND } from "../../src/app/pull-requests.js";
import { REPORT_KIND } from "../../src/app/report-jobs.js";
import { SCAN_KIND } from "../../src/app/scan-jobs.js";
import { TEXT_SCAN_KIND } from "../../src/app/text-jobs.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { loadRules } from "../../src/scan/rules.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../../src/sources/log-archive.js";
import type { Store } from "../../src/store/index.js";
import { type Engine, engines } from "../store/engines.js";
import { tempDir } from "../support/cli.js";
import { postgresMissing } from "../support/postgres.js";

const pg = engines("pipeline_wake")[1] as Engine;
const dir = tempDir();
afterAll(async () => {
  await pg.cleanup();
  dir.remove();
});

function pipelineOn(store: Store, more: Partial<PipelineOptions> = {}): Pipeline {
  return new Pipeline({
    store,
    octokitFor: async () => {
      throw new Error("no GitHub in this test");
    },
    revokers: createRevokers({}),
    cache: new GitCache({ root: join(dir.path, "cache"), maxBytes: 1e9, remote: join(dir.path, "served") }),
    rules: loadRules(),
    maxFileSize: 1e6,
    archiveLimits: DEFAULT_ARCHIVE_LIMITS,
    scanConcurrency: 1,
    log: () => {},
    warn: () => {},
    ...more,
  });
}

/** The stages that polled every second before they heard notifications. */
const KINDS = [TEXT_SCAN_KIND, PULL_REQUEST_KIND, BACKFILL_KIND];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(postgresMissing)(
  `the App's stages on PostgreSQL${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    it("text, pull request and backfill stages wait for notifications, not a timer, and wake for another replica's job", async () => {
      const target = pg.target();
      const a = await pg.open(target);
      const b = await pg.open(target);
      const claims = vi.spyOn(a.jobs, "claim");
      const pipeline = pipelineOn(a);
      try {
        await pipeline.start();
        const looks = (kind: string) => claims.mock.calls.filter(([o]) => o.kind === kind).length;
        // Idle: one look each when the stage starts, then none for seconds (the old poll looked every second).
        await sleep(2_500);
        const idle = KINDS.map(looks);
        expect(idle).toEqual([1, 1, 1]);
        // Another replica queues work for each: each stage looks at once.
        for (const kind of KINDS)
          await b.jobs.enqueue({ kind, key: `${kind}:from-b`, queue: kind, payload: {}, maxAttempts: 1 });
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline && KINDS.some((k) => looks(k) < 2)) await sleep(20);
        expect(KINDS.map(looks).every((n) => n >= 2)).toBe(true);
        // A look is counted when the claim is sent; the attempt is counted a statement later.
        const attempts = () =>
          Promise.all(KINDS.map(async (kind) => (await b.jobs.byKey(`${kind}:from-b`))?.attempts));
        const counted = Date.now() + 5_000;
        while (Date.now() < counted && (await attempts()).some((n) => n !== 1)) await sleep(20);
        expect(await attempts()).toEqual([1, 1, 1]);
      } finally {
        await pipeline.stop();
        await a.close();
        await b.close();
      }
    });

    it.each([
      [ALERT_KIND, "webhook"],
      [REPORT_KIND, "installation:1"],
    ])(
      "%s jobs step aside for a moment when another replica queues a scan: on a burst, its scans come first",
      async (kind, queue) => {
        const target = pg.target();
        const a = await pg.open(target);
        const b = await pg.open(target);
        const claims: number[] = [];
        const claim = a.jobs.claim.bind(a.jobs);
        vi.spyOn(a.jobs, "claim").mockImplementation((options) => {
          if (options.kind === kind) claims.push(Date.now());
          return claim(options);
        });
        // Nothing listens there, and the job's payload is empty: it fails. Only when it was first taken matters.
        const pipeline = pipelineOn(a, { alerts: { urls: { webhook: "http://127.0.0.1:9/alerts" } } });
        try {
          await pipeline.start();
          await sleep(300);
          const before = claims.length;
          // B queues a scan (due later, so that no replica runs it: only the news of it counts), then the job.
          const queuedAt = Date.now();
          const later = new Date(Date.now() + 3_600_000).toISOString();
          await b.jobs.enqueue({
            kind: SCAN_KIND,
            key: "push:acme/app:busy",
            queue: "1",
            payload: {},
            maxAttempts: 1,
            runAfter: later,
          });
          const key = `${kind}:during-burst`;
          await b.jobs.enqueue({ kind, key, queue, payload: {}, maxAttempts: 1 });
          const deadline = Date.now() + 5_000;
          while (Date.now() < deadline && (await b.jobs.byKey(key))?.attempts !== 1) await sleep(20);
          expect((await b.jobs.byKey(key))?.attempts).toBe(1);
          // Woken at once by the job's notification, the stage waited out the quiet moment before it looked.
          const [first] = claims.slice(before);
          expect(first).toBeDefined();
          expect((first ?? 0) - queuedAt).toBeGreaterThanOrEqual(URGENT_QUIET_MS);
        } finally {
          await pipeline.stop();
          await a.close();
          await b.close();
        }
      },
    );
  },
);
