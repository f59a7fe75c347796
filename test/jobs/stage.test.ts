// A stage's looks at the queue, on a real SQLite file: a job that ends does not look again at a queue the last
// look found empty (that look was a statement for nothing, one per job of every stage), nor when its end only
// leaves out more (a paced queue pausing); work queued afterwards, a retry that comes due, and a queue that
// frees are still taken.
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { type StageOptions, StageRunner } from "../../src/jobs/stage.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";

const dir = tempDir();
const store = await openStore({ path: join(dir.path, "stage.db"), env: {} });
afterAll(async () => {
  await store.close();
  dir.remove();
});

const enqueue = (kind: string, key: string, queue = kind) =>
  store.jobs.enqueue({ kind, key, queue, payload: {}, maxAttempts: 3 });

const stateOf = async (key: string) => (await store.jobs.byKey(key))?.state;

/** A stage of its own kind whose idle look comes only after a minute: whatever it runs, a wake made it run. */
function stage(
  kind: string,
  handle: (key: string) => Promise<void>,
  limits: Pick<StageOptions<unknown>, "perQueue" | "pausedQueues"> = {},
) {
  const handled: string[] = [];
  const runner = new StageRunner<unknown>({
    store,
    kind,
    concurrency: 2,
    ...limits,
    pollMs: 60_000,
    retry: { baseMs: 20, maxMs: 20 },
    handle: async (job) => {
      handled.push(job.key);
      await handle(job.key);
    },
  });
  const claims = vi.spyOn(store.jobs, "claim");
  return {
    runner,
    handled,
    /** How many times it has looked at its queue. */
    looks: () => claims.mock.calls.filter(([claim]) => claim.kind === kind).length,
    /** Runs `test` while the stage runs. */
    async running(test: () => Promise<void>) {
      runner.start();
      try {
        await test();
      } finally {
        await runner.stop();
        claims.mockRestore();
      }
    },
  };
}

/** Time for a look that a job's end would have started. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe("a stage's looks at the queue", () => {
  it("takes a job with one look, does not look again when it ends, and takes work queued afterwards", async () => {
    const kind = "look-once";
    await enqueue(kind, "look-once:a");
    const s = stage(kind, async () => {});
    await s.running(async () => {
      await vi.waitFor(async () => expect(await stateOf("look-once:a")).toBe("done"));
      await settle();
      expect(s.looks()).toBe(1);

      await enqueue(kind, "look-once:b");
      s.runner.notify();
      await vi.waitFor(async () => expect(await stateOf("look-once:b")).toBe("done"));
      expect(s.handled).toEqual(["look-once:a", "look-once:b"]);
    });
  });

  it("takes a failed job again once its retry is due", async () => {
    const kind = "retry-due";
    await enqueue(kind, "retry-due:a");
    let failures = 0;
    const s = stage(kind, async () => {
      // It fails once the stage has gone to sleep, with nothing else due.
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (failures++ === 0) throw new Error("the provider is away");
    });
    await s.running(async () => {
      await vi.waitFor(async () => expect(await stateOf("retry-due:a")).toBe("done"));
      expect(s.handled).toEqual(["retry-due:a", "retry-due:a"]);
    });
  });

  it("looks again when a job's end frees its queue for a job that waited on it", async () => {
    const kind = "per-queue";
    let release: () => void = () => {};
    const first = new Promise<void>((resolve) => (release = resolve));
    await enqueue(kind, "per-queue:a", "one");
    await enqueue(kind, "per-queue:b", "one");
    const s = stage(kind, (key) => (key === "per-queue:a" ? first : Promise.resolve()), { perQueue: 1 });
    await s.running(async () => {
      await vi.waitFor(() => expect(s.handled).toEqual(["per-queue:a"]));
      // b waits for its queue: the look that found nothing else was made with queue "one" left out.
      release();
      await vi.waitFor(async () => expect(await stateOf("per-queue:b")).toBe("done"));
      expect(s.handled).toEqual(["per-queue:a", "per-queue:b"]);
    });
  });

  it("does not look again when a job's end pauses its queue (a paced write)", async () => {
    const kind = "paced";
    const paused = new Map<string, number>();
    await enqueue(kind, "paced:a", "installation-1");
    const pause = async () => {
      paused.set("installation-1", Date.now() + 60_000);
    };
    const s = stage(kind, pause, { pausedQueues: () => paused });
    await s.running(async () => {
      await vi.waitFor(async () => expect(await stateOf("paced:a")).toBe("done"));
      await settle();
      expect(s.looks()).toBe(1);
    });
  });
});
