import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rateLimitWait, WritePacer } from "../../src/app/pacing.js";
import {
  installationQueue,
  REPORT_KIND,
  ReportJobRunner,
  type ReportPayload,
} from "../../src/app/report-jobs.js";
import { RetryAfter } from "../../src/jobs/stage.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";

const dir = tempDir();
const store = await openStore({ path: join(dir.path, "reports.db"), env: {} });
afterAll(async () => {
  await store.close();
  dir.remove();
});

const enqueue = async (key: string, installation: number) =>
  (
    await store.jobs.enqueue<ReportPayload>({
      kind: REPORT_KIND,
      key,
      queue: installationQueue(installation),
      payload: { type: "outcome", installation, breachKey: key, secretHash: `sha256:${"0".repeat(64)}` },
      maxAttempts: 3,
    })
  ).job;

describe("the report stage", () => {
  it("pauses only the installation GitHub asked to wait; another installation's reports go on", async () => {
    const pacer = new WritePacer(0);
    const first = await enqueue("a-1", 1);
    const second = await enqueue("a-2", 1);
    await enqueue("b-1", 2);
    await enqueue("b-2", 2);
    const calls: string[] = [];
    const runner = new ReportJobRunner({
      store,
      pacer,
      concurrency: 4,
      handle: async (job) => {
        calls.push(job.key);
        if (job.payload.installation === 1) {
          pacer.pause(job.queue, Date.now() + 60_000);
          throw new RetryAfter("GitHub asked to wait 60 s (403)", 60_000);
        }
      },
    });
    await runner.drain(2_000);
    // Installation 1: one call, then nothing until its pause ends; installation 2: both reports, one at a time.
    expect(calls.filter((k) => k.startsWith("a-"))).toEqual(["a-1"]);
    expect(calls.filter((k) => k.startsWith("b-"))).toEqual(["b-1", "b-2"]);
    const waited = await store.jobs.byId(first.id);
    expect(waited).toMatchObject({ state: "pending", attempts: 0 });
    expect(Date.parse(waited?.runAfter ?? "") - Date.now()).toBeGreaterThan(50_000);
    expect(await store.jobs.byId(second.id)).toMatchObject({ state: "pending", attempts: 0 });
    expect(pacer.pausedQueues().has(installationQueue(1))).toBe(true);
    expect(pacer.pausedQueues().has(installationQueue(2))).toBe(false);
  });

  it("reads GitHub's rate-limit answers: Retry-After, an exhausted limit, a secondary limit; not other 403s", () => {
    const now = Date.parse("2026-11-30T12:00:00Z");
    const answer = (status: number, headers: Record<string, string>, message = "") => ({
      status,
      message,
      response: { headers },
    });
    expect(rateLimitWait(answer(403, { "retry-after": "7" }), now)).toBe(7_000);
    expect(rateLimitWait(answer(429, {}), now)).toBe(60_000);
    expect(
      rateLimitWait(
        answer(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(now / 1000 + 30) }),
        now,
      ),
    ).toBe(30_000);
    expect(rateLimitWait(answer(403, {}, "You have exceeded a secondary rate limit"), now)).toBe(60_000);
    expect(rateLimitWait(answer(403, {}, "Resource not accessible by integration"), now)).toBeUndefined();
    expect(rateLimitWait(answer(500, { "retry-after": "7" }), now)).toBeUndefined();
  });
});
