import { join } from "node:path";
import nock from "nock";
import { afterAll, describe, expect, it, vi } from "vitest";
import { enqueueOutcomeFollowUps } from "../../src/app/outcome-follow-ups.js";
import { rateLimitWait, WritePacer } from "../../src/app/pacing.js";
import { enqueuePullRequestOutcomes } from "../../src/app/pull-requests.js";
import {
  enqueueConfirmationReports,
  enqueueNotices,
  enqueueOutcomeReports,
  installationQueue,
  REPORT_KIND,
  ReportJobRunner,
  type ReportPayload,
  ReportProcessor,
} from "../../src/app/report-jobs.js";
import { RetryAfter } from "../../src/jobs/stage.js";
import { revocationKey } from "../../src/revoke/queue.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";
import { TestOctokit } from "../support/probot.js";

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

/** A token whose revocation job has ended: revoked. */
async function revoked(secretHash: string): Promise<void> {
  const { job } = await store.jobs.enqueue({
    kind: "revoke",
    key: revocationKey(secretHash),
    queue: "azure-devops",
    payload: {},
    maxAttempts: 1,
  });
  await store.jobs.claim({ kind: "revoke", owner: "w", leaseMs: 60_000, limit: 1 });
  await store.jobs.finish(job.id, "w", { state: "done", outcome: "revoked" });
}

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
          await pacer.pause(job.queue, Date.now() + 60_000);
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

  it("a revocation's outcome with nothing to queue (no issue yet, no notice, no pull request) opens no transaction", async () => {
    const secretHash = `sha256:${"d".repeat(64)}`;
    const key = "push:acme/app:refs/heads/d:4";
    await store.breaches.open(key, "acme/app", 9, [{ secretHash, preview: "AZDO…dddd", description: "PAT" }]);
    await revoked(secretHash);
    const transactions = vi.spyOn(store, "transaction");
    const reads = (["reportsOfAll", "awaitingComment", "noticesAwaiting", "forToken"] as const).map((name) =>
      vi.spyOn(store.breaches, name),
    );
    expect(await enqueueOutcomeReports(store, secretHash)).toBe(0);
    expect(await enqueueNotices(store, secretHash)).toBe(0);
    expect(await enqueuePullRequestOutcomes(store, secretHash)).toBe(0);
    expect(transactions).not.toHaveBeenCalled();
    // What the revocation stage runs: one read, and nothing else, says there is nothing to queue.
    for (const read of reads) read.mockClear();
    expect(await enqueueOutcomeFollowUps(store, [secretHash])).toBe(0);
    expect(reads.map((read) => read.mock.calls.length)).toEqual([1, 0, 0, 0]);
    expect(transactions).not.toHaveBeenCalled();
    // Once the issue is open, the outcome is queued as its comment.
    await store.breaches.issueOpened(key, 4, "https://github.com/acme/app/issues/4");
    expect(await enqueueOutcomeFollowUps(store, [secretHash])).toBe(1);
    for (const read of reads) read.mockRestore();
    transactions.mockRestore();
  });

  it("the outcomes of tokens revoked together are looked at in one read, each queuing its own follow-ups", async () => {
    const hashes = ["1", "2", "3"].map((c) => `sha256:${c.repeat(64)}`);
    const [opened, quiet, unreported] = hashes as [string, string, string];
    const key = "push:acme/app:refs/heads/f:6";
    await store.breaches.open(key, "acme/app", 9, [
      { secretHash: opened, preview: "AZDO…1111", description: "PAT" },
      { secretHash: quiet, preview: "AZDO…2222", description: "PAT" },
    ]);
    await store.breaches.issueOpened(key, 6, "https://github.com/acme/app/issues/6");
    await store.breaches.commented(key, quiet);
    for (const hash of hashes) await revoked(hash);
    const read = vi.spyOn(store.breaches, "reportsOfAll");
    // The issue awaits the first token's outcome only; the third token is in no breach.
    expect(await enqueueOutcomeFollowUps(store, hashes)).toBe(1);
    expect(read).toHaveBeenCalledTimes(1);
    const comments = (await store.jobs.list({ kind: REPORT_KIND })).filter((j) => {
      const payload = j.payload as { type?: string; secretHash?: string };
      return payload.type === "outcome" && hashes.includes(payload.secretHash ?? "");
    });
    expect(comments.map((j) => (j.payload as { secretHash?: string }).secretHash)).toEqual([opened]);
    const reported = await store.breaches.reportsOfAll(hashes);
    expect([...reported.keys()].sort()).toEqual([opened, quiet].sort());
    expect(reported.has(unreported)).toBe(false);
    read.mockRestore();
  });

  it("a revocation's outcome queues a breach's public notice and a pull request's comment edit", async () => {
    const secretHash = `sha256:${"e".repeat(64)}`;
    const token = { secretHash, preview: "AZDO…eeee", description: "PAT" };
    await store.breaches.open("push:acme/public:refs/heads/e:5", "acme/public", 9, [token], { notice: true });
    await store.breaches.open("pull_request:acme/app:7", "acme/app", 9, [token]);
    expect((await store.breaches.reportsOfAll([secretHash])).get(secretHash)).toEqual(
      expect.arrayContaining([
        { key: "push:acme/public:refs/heads/e:5", awaitingComment: false, notice: "pending" },
        { key: "pull_request:acme/app:7", awaitingComment: false, notice: null },
      ]),
    );
    await revoked(secretHash);
    expect(await enqueueOutcomeFollowUps(store, [secretHash])).toBe(2);
    const notice = `${REPORT_KIND}:notice:push:acme/public:refs/heads/e:5`;
    const queued = await store.jobs.byKeys([notice]);
    expect(queued.get(notice)?.payload).toMatchObject({ type: "notice" });
    // Queued once: the same outcome heard again adds nothing.
    expect(await enqueueOutcomeFollowUps(store, [secretHash])).toBe(0);
  });

  it("comments a revocation's confirmation on each issue as a report job, paced with the installation's writes", async () => {
    nock.disableNetConnect();
    const secretHash = `sha256:${"c".repeat(64)}`;
    const token = { secretHash, preview: "AZDO…wxyz", description: "Azure DevOps PAT" };
    for (const [key, number] of [
      ["push:acme/app:refs/heads/a:1", 5],
      ["push:acme/app:refs/heads/b:2", 6],
    ] as const) {
      await store.breaches.open(key, "acme/app", 9, [token]);
      await store.breaches.issueOpened(key, number, `https://github.com/acme/app/issues/${number}`);
    }
    const outcome = {
      ...token,
      provider: "azure-devops",
      status: "confirmed" as const,
      detail: "the token is refused",
      reopened: [],
    };
    expect(await enqueueConfirmationReports(store, outcome)).toBe(2);
    // The same verdict again queues nothing more: one comment per issue, token and verdict.
    expect(await enqueueConfirmationReports(store, outcome)).toBe(0);
    const posted: { issue: number; body: string; at: number }[] = [];
    nock("https://api.github.com")
      .post(/\/repos\/acme\/app\/issues\/(5|6)\/comments/)
      .times(2)
      .reply(201, (uri, body) => {
        posted.push({
          issue: Number(/issues\/(\d+)/.exec(uri)?.[1]),
          body: (body as { body: string }).body,
          at: Date.now(),
        });
        return { id: 1 };
      });
    const pacer = new WritePacer(400);
    const reporter = new ReportProcessor({
      store,
      octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
      pacer,
      reportsQueued: () => {},
      log: () => {},
    });
    const runner = new ReportJobRunner({
      store,
      pacer,
      concurrency: 4,
      handle: (job) => reporter.process(job),
    });
    await runner.drain(5_000);
    nock.cleanAll();
    expect(posted.map((p) => p.issue).sort()).toEqual([5, 6]);
    for (const p of posted) expect(p.body).toMatch(/AZDO…wxyz.*revoked \(confirmed\): the token is refused/);
    // The installation's pace: the second comment waited its turn.
    expect((posted[1]?.at ?? 0) - (posted[0]?.at ?? 0)).toBeGreaterThanOrEqual(350);
  });
});
