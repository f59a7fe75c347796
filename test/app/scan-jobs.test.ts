import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SCAN_KIND, type ScanJob, ScanJobRunner, type ScanPayload } from "../../src/app/scan-jobs.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";

const dir = tempDir();
const store = openStore({ path: join(dir.path, "jobs.db"), env: {} });
afterAll(() => {
  store.close();
  dir.remove();
});

const payload: ScanPayload = {
  type: "workflow_run",
  installation: 1,
  repository: { owner: "acme", name: "app", fullName: "acme/app", htmlUrl: "" },
  runId: 1,
  attempt: 1,
  runName: "CI",
  runUrl: "",
  actor: "dana",
};
const enqueue = (key: string, maxAttempts = 3) =>
  store.jobs.enqueue<ScanPayload>({ kind: SCAN_KIND, key, queue: SCAN_KIND, payload, maxAttempts }).job;

describe("the scan runner", () => {
  it("resumes a job whose worker died mid-scan, and runs it once", async () => {
    const job = enqueue("crashed");
    // A worker on this host with a process id that no longer exists claimed it, then died.
    const dead = `${hostname()}:2147483646:deadbeef`;
    expect(
      store.jobs.claim({ kind: SCAN_KIND, owner: dead, leaseMs: 3_600_000, limit: 10 }).map((j) => j.id),
    ).toEqual([job.id]);
    const handled: number[] = [];
    const runner = new ScanJobRunner({ store, handle: async (j) => void handled.push(j.id) });
    await runner.drain(5000);
    expect(handled).toEqual([job.id]);
    expect(store.jobs.byId(job.id)).toMatchObject({ state: "done", attempts: 1 });
    expect(store.audit.list({ action: "scan.resume" })).toHaveLength(1);
    await runner.drain(1000);
    expect(handled).toEqual([job.id]);
  });

  it("retries a failing job with backoff, then gives up and audits it", async () => {
    const job = enqueue("flaky", 2);
    let calls = 0;
    const failing = async (_: ScanJob) => {
      calls++;
      throw new Error("GitHub answered 502");
    };
    const runner = new ScanJobRunner({ store, handle: failing, retry: { baseMs: 1, maxMs: 1 } });
    await runner.drain(5000);
    expect(calls).toBe(2);
    expect(store.jobs.byId(job.id)).toMatchObject({
      state: "dead",
      attempts: 2,
      lastError: "GitHub answered 502",
    });
    expect(store.audit.list({ action: "scan.dead" })[0]?.detail).toMatchObject({ key: "flaky", attempts: 2 });
  });

  it("wakes up for a job queued while it sleeps", async () => {
    const handled: string[] = [];
    const runner = new ScanJobRunner({
      store,
      handle: async (j) => void handled.push(j.key),
      pollMs: 60_000,
    });
    runner.start();
    enqueue("queued-later");
    runner.notify();
    for (let i = 0; i < 100 && handled.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    expect(handled).toEqual(["queued-later"]);
  });
});
