// On PostgreSQL every stage of the App is woken by the job notifications of any replica, and looks at the queue
// on its own only as a slow safety net: an idle replica does not query the queue every second.
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { BACKFILL_KIND } from "../../src/app/backfill-jobs.js";
import { GitCache } from "../../src/app/git-cache.js";
import { Pipeline } from "../../src/app/pipeline.js";
import { PULL_REQUEST_KIND } from "../../src/app/pull-requests.js";
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

function pipelineOn(store: Store): Pipeline {
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
  },
);
