import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import { revocationJob } from "../../src/revoke/queue.js";
import { Secret } from "../../src/scan/secret.js";
import { openStore } from "../../src/store/index.js";
import { JobTable, PRIORITY } from "../../src/store/jobs.js";
import { tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";
import { AUTH_ID, ENTRA, harness, scanText } from "./harness.js";

const dir = tempDir();
afterAll(dir.remove);
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const ADO = "https://vssps.dev.azure.com";
const TOKEN_ADMIN = "/contoso/_apis/tokenadmin/revocations";

async function registerAdo(h: Awaited<ReturnType<typeof harness>>, pat: string) {
  return (
    await new Registry(h.store).add(new Secret(pat), {
      org: "contoso",
      authorizationId: AUTH_ID,
      owner: "alice",
    })
  ).token;
}

describe("a registered Azure DevOps PAT", () => {
  it("is queued before any call, revoked once, and every step is audited", async () => {
    const h = await harness(dir.path);
    const pat = tokens(1).adoPat();
    const token = await registerAdo(h, pat);
    const findings = scanText(`one: ${pat}\ntwo: ${pat}\n`);
    const { actions, pendingJobIds } = await h.act(findings, { revoke: true });
    expect(pendingJobIds).toHaveLength(1);
    expect(actions.map((a) => a.revocation?.status)).toEqual(["pending", "pending"]);
    expect(actions[0]?.registry).toEqual({
      id: token.id,
      provider: "azure-devops",
      owner: "alice",
      name: null,
    });
    const scope = nock(ADO, { reqheaders: { authorization: `Bearer ${ENTRA}` } })
      .post(TOKEN_ADMIN, [{ authorizationId: AUTH_ID }])
      .query({ "api-version": "7.1" })
      .reply(204);
    await h.worker.drain({ maxWaitMs: 0 });
    expect(scope.isDone()).toBe(true);
    expect(await h.actions()).toEqual(["registry.add", "revoke.enqueue", "revoke.attempt", "revoke.revoked"]);
    expect((await h.store.tokens.byId(token.id))?.revokedAt).toBe(h.clock.now.toISOString());
    expect((await h.store.findings.list()).map((f) => f.status)).toEqual(["revoked", "revoked"]);
    expect(h.outcomes).toEqual([
      expect.objectContaining({
        outcome: "revoked",
        provider: "azure-devops",
        tokenId: token.id,
        findingIds: [1, 2],
      }),
    ]);
    // Found again, by the same or another scan: no second job, no second call.
    const again = await h.act(scanText(`elsewhere: ${pat}\n`, "other.txt"), { revoke: true });
    expect(again.pendingJobIds).toEqual([]);
    expect(again.actions[0]?.revocation?.status).toBe("revoked");
    expect(await h.worker.runDue()).toBe(0);
    expect((await h.store.findings.list()).map((f) => f.status)).toEqual(["revoked", "revoked", "revoked"]);
  });

  it("retries a 500 after an exponential, jittered delay, then succeeds", async () => {
    const h = await harness(dir.path);
    const pat = tokens(2).adoPat();
    await registerAdo(h, pat);
    const { pendingJobIds } = await h.act(scanText(pat), { revoke: true });
    const id = pendingJobIds[0] as number;
    nock(ADO).post(TOKEN_ADMIN).query(true).reply(500, { message: "boom" });
    await h.worker.runDue();
    // attempt 1: base 1000 ms, jitter 0.5 → 750 ms
    expect(await h.store.jobs.byId(id)).toMatchObject({ state: "pending", attempts: 1, runAfter: h.at(750) });
    expect((await h.store.jobs.byId(id))?.lastError).toMatch(/answered 500 Internal Server Error: boom/);
    expect(await h.worker.runDue()).toBe(0); // not due yet: no call (nock would refuse one)
    h.advance(750);
    nock(ADO).post(TOKEN_ADMIN).query(true).reply(500);
    await h.worker.runDue();
    // attempt 2: 2000 ms ceiling → 1500 ms
    expect(await h.store.jobs.byId(id)).toMatchObject({ attempts: 2, runAfter: h.at(1500) });
    h.advance(1500);
    nock(ADO).post(TOKEN_ADMIN).query(true).reply(204);
    await h.worker.runDue();
    expect(await h.store.jobs.byId(id)).toMatchObject({ state: "done", outcome: "revoked", attempts: 3 });
    expect((await h.actions()).slice(2)).toEqual([
      "revoke.attempt",
      "revoke.retry",
      "revoke.attempt",
      "revoke.retry",
      "revoke.attempt",
      "revoke.revoked",
    ]);
  });

  it("gives up after the bounded number of attempts: dead, audited, and the listener hears it", async () => {
    const h = await harness(dir.path, { maxAttempts: 2 });
    const pat = tokens(3).adoPat();
    await registerAdo(h, pat);
    await h.act(scanText(pat), { revoke: true });
    nock(ADO).post(TOKEN_ADMIN).query(true).times(2).reply(503);
    const result = await h.worker.drain({ maxWaitMs: 60_000 });
    expect(result).toEqual({ processed: 2, pending: 0, running: 0 });
    expect(h.sleeps).toEqual([750]);
    const job = await revocationJob(h.store, scanText(pat)[0]?.secretHash as string);
    expect(job).toMatchObject({ state: "dead", attempts: 2 });
    expect(job?.lastError).toMatch(/gave up after 2 attempts: .*503/);
    expect((await h.actions()).at(-1)).toBe("revoke.dead");
    expect(h.outcomes).toEqual([expect.objectContaining({ outcome: "failed", attempts: 2 })]);
    expect((await h.store.findings.list())[0]?.status).toBe("open");
  });

  it("--wait is a limit: no retry starts that its call's timeout could carry past it", async () => {
    // The retry is due after 750 ms; a call may take 500 ms; the wait is 1,000 ms: it must stay queued.
    const h = await harness(dir.path, { maxAttempts: 3, callTimeoutMs: 500 });
    const pat = tokens(41).adoPat();
    await registerAdo(h, pat);
    await h.act(scanText(pat), { revoke: true });
    const calls = nock(ADO).post(TOKEN_ADMIN).query(true).times(2).reply(503);
    const result = await h.worker.drain({ maxWaitMs: 1_000 });
    expect(result).toEqual({ processed: 1, pending: 1, running: 0 });
    expect(h.sleeps).toEqual([]);
    expect(calls.pendingMocks()).toHaveLength(1);
    // With room for the call, the same retry runs.
    expect(await h.worker.drain({ maxWaitMs: 1_300 })).toMatchObject({ processed: 1 });
  });

  it("a refused credential is not retried", async () => {
    const h = await harness(dir.path);
    const pat = tokens(4).adoPat();
    await registerAdo(h, pat);
    await h.act(scanText(pat), { revoke: true });
    nock(ADO).post(TOKEN_ADMIN).query(true).reply(401);
    await h.worker.drain({ maxWaitMs: 60_000 });
    expect(h.outcomes[0]).toMatchObject({ outcome: "failed", attempts: 1 });
    expect(h.outcomes[0]?.detail).toMatch(/LEAKWARDEN_ADO_TOKEN was refused/);
  });

  it("404 means already revoked: the finding is closed all the same", async () => {
    const h = await harness(dir.path);
    const pat = tokens(5).adoPat();
    await registerAdo(h, pat);
    await h.act(scanText(pat), { revoke: true });
    nock(ADO).post(TOKEN_ADMIN).query(true).reply(404);
    await h.worker.drain({ maxWaitMs: 0 });
    expect(h.outcomes[0]).toMatchObject({ outcome: "already-revoked" });
    expect((await h.actions()).at(-1)).toBe("revoke.already-revoked");
    expect((await h.store.findings.list())[0]?.status).toBe("revoked");
  });

  it("without an Azure DevOps credential the job fails at once, with no call and no attempt counted", async () => {
    const h = await harness(dir.path);
    const { createRevokers } = await import("../../src/revoke/providers.js");
    const { RevocationWorker } = await import("../../src/revoke/worker.js");
    const pat = tokens(6).adoPat();
    await registerAdo(h, pat);
    await h.act(scanText(pat), { revoke: true });
    const worker = new RevocationWorker({ store: h.store, revokers: createRevokers({}) });
    await worker.drain({ maxWaitMs: 0 });
    expect(await h.actions()).toEqual(["registry.add", "revoke.enqueue", "revoke.dead"]);
    expect((await h.store.jobs.list())[0]).toMatchObject({ state: "dead", attempts: 0 });
    expect((await h.store.jobs.list())[0]?.lastError).toMatch(/no Azure DevOps credential/);
  });
});

describe("rate limits", () => {
  it("honours Retry-After: the job and every other call to that provider wait", async () => {
    const h = await harness(dir.path);
    const t = tokens(7);
    const first = t.make("gitlab-pat-routable");
    const second = t.make("gitlab-pat-routable");
    await h.act(scanText(first), { revoke: true, policy: "all" });
    nock("https://gitlab.com")
      .delete("/api/v4/personal_access_tokens/self")
      .reply(429, "", { "Retry-After": "120" });
    await h.worker.runDue();
    const job1 = (await h.store.jobs.list())[0];
    expect(job1).toMatchObject({ state: "pending", attempts: 1, runAfter: h.at(120_000) });
    await h.act(scanText(second), { revoke: true, policy: "all" });
    await h.worker.runDue(); // the second job is due, but the provider asked us to wait: no call
    expect((await h.store.jobs.list())[1]).toMatchObject({
      state: "pending",
      attempts: 0,
      runAfter: h.at(120_000),
    });
    h.advance(120_000);
    const scope = nock("https://gitlab.com")
      .delete("/api/v4/personal_access_tokens/self")
      .times(2)
      .reply(204);
    await h.worker.runDue();
    expect(scope.isDone()).toBe(true);
    expect((await h.store.jobs.list()).map((j) => j.state)).toEqual(["done", "done"]);
  });

  it("an exhausted x-ratelimit budget pauses the provider until its reset", async () => {
    const h = await harness(dir.path);
    const t = tokens(8);
    const reset = String(h.clock.now.getTime() / 1000 + 900);
    await h.act(scanText(t.make("github-installation-token")), { revoke: true, policy: "all" });
    nock("https://api.github.com")
      .delete("/installation/token")
      .reply(204, "", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset });
    await h.worker.runDue();
    await h.act(scanText(t.make("github-installation-token")), { revoke: true, policy: "all" });
    await h.worker.runDue();
    expect((await h.store.jobs.list()).map((j) => [j.state, j.runAfter])).toEqual([
      ["done", expect.any(String)],
      ["pending", h.at(900_000)],
    ]);
  });

  it("batches GitHub tokens into one /credentials/revoke call", async () => {
    const h = await harness(dir.path);
    const t = tokens(9);
    const values = [t.githubPat(), t.githubPat(), t.make("github-fine-grained-pat")];
    await h.act(scanText(values.join("\n")), { revoke: true, policy: "all" });
    const scope = nock("https://api.github.com")
      .post(
        "/credentials/revoke",
        (body) => [...body.credentials].sort().join() === [...values].sort().join(),
      )
      .once()
      .reply(202);
    await h.worker.drain({ maxWaitMs: 0 });
    expect(scope.isDone()).toBe(true);
    const attempts = await h.store.audit.list({ action: "revoke.attempt" });
    expect(attempts).toHaveLength(1);
    expect(attempts[0]?.subject).toBe("jobs:1,2,3");
    expect(h.outcomes.map((o) => o.outcome)).toEqual(["revoked", "revoked", "revoked"]);
  });

  it("counts the attempts of calls that start together in one write, one audited attempt per call", async () => {
    const h = await harness(dir.path);
    const t = tokens(12);
    const pats = [t.adoPat(), t.adoPat(), t.adoPat(), t.adoPat()];
    const ids = pats.map((_, i) => `7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5${i}`);
    // Four organisations: Azure DevOps revokes one organisation's tokens in a call, four calls at once.
    const orgs = ["contoso", "fabrikam", "northwind", "tailspin"];
    for (const [i, pat] of pats.entries())
      await new Registry(h.store).add(new Secret(pat), { org: orgs[i], authorizationId: ids[i] });
    await h.act(scanText(pats.join("\n")), { revoke: true });
    const called: string[] = [];
    const scope = nock(ADO)
      .post(/\/_apis\/tokenadmin\/revocations/, (body) => {
        called.push(...body.map((entry: { authorizationId: string }) => entry.authorizationId));
        return true;
      })
      .query(true)
      .times(4)
      .reply(204);
    const started = vi.spyOn(JobTable.prototype, "startAttempt");
    await h.worker.drain({ maxWaitMs: 0 });
    expect(scope.isDone()).toBe(true);
    expect(called.sort()).toEqual([...ids].sort());
    expect(started.mock.calls.map(([jobIds]) => [...jobIds])).toEqual([[1, 2, 3, 4]]);
    started.mockRestore();
    const attempts = await h.store.audit.list({ action: "revoke.attempt" });
    expect(attempts.map((a) => a.subject)).toEqual(["job:1", "job:2", "job:3", "job:4"]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(["revoked", "revoked", "revoked", "revoked"]);
  });

  it("revokes a burst of one organisation's Azure DevOps tokens in one call", async () => {
    const h = await harness(dir.path);
    const t = tokens(14);
    const pats = Array.from({ length: 6 }, () => t.adoPat());
    for (const [i, pat] of pats.entries())
      await new Registry(h.store).add(new Secret(pat), {
        org: "contoso",
        authorizationId: `${i}${AUTH_ID.slice(1)}`,
      });
    await h.act(scanText(pats.join("\n")), { revoke: true });
    const sizes: number[] = [];
    nock(ADO)
      .post(TOKEN_ADMIN, (body) => {
        sizes.push(body.length);
        return true;
      })
      .query(true)
      .times(6)
      .reply(204);
    await h.worker.drain({ maxWaitMs: 0 });
    expect(sizes).toEqual([6]);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(Array(6).fill("revoked"));
    const attempts = await h.store.audit.list({ action: "revoke.attempt" });
    expect(attempts.map((a) => a.subject)).toEqual(["jobs:1,2,3,4,5,6"]);
  });

  it("records the outcomes of one call's tokens in one transaction", async () => {
    const h = await harness(dir.path);
    const t = tokens(13);
    const values = [t.githubPat(), t.githubPat(), t.githubPat()];
    await h.act(scanText(values.join("\n")), { revoke: true, policy: "all" });
    nock("https://api.github.com").post("/credentials/revoke").once().reply(202);
    const transactions = vi.spyOn(h.store, "transaction");
    await h.worker.drain({ maxWaitMs: 0 });
    // One to count the call's attempt, one to record its three outcomes.
    expect(transactions).toHaveBeenCalledTimes(2);
    expect(await h.actions()).toEqual([
      "revoke.enqueue",
      "revoke.enqueue",
      "revoke.enqueue",
      "revoke.attempt",
      "revoke.revoked",
      "revoke.revoked",
      "revoke.revoked",
    ]);
    expect((await h.store.findings.list()).map((f) => f.status)).toEqual(["revoked", "revoked", "revoked"]);
    expect(h.outcomes.map((o) => [o.jobId, o.findingIds])).toEqual([
      [1, [1]],
      [2, [2]],
      [3, [3]],
    ]);
  });

  it("a backfill's revocations do not overtake a push's, even when queued first", async () => {
    const h = await harness(dir.path);
    const t = tokens(12);
    const registry = new Registry(h.store);
    const pats: string[] = [];
    for (let i = 0; i < 7; i++) {
      const pat = t.adoPat();
      await registry.add(new Secret(pat), { org: "contoso", authorizationId: `${i}${AUTH_ID.slice(1)}` });
      pats.push(pat);
    }
    // Six from a backfill first, then one from a push: the push's goes first, in the same call or before.
    await h.act(scanText(pats.slice(0, 6).join("\n"), "old.txt"), { revoke: true, priority: PRIORITY.bulk });
    await h.act(scanText(pats[6] as string, "new.txt"), { revoke: true });
    const order: string[] = [];
    nock(ADO)
      .post(TOKEN_ADMIN, (body) => {
        order.push(...body.map((entry: { authorizationId: string }) => entry.authorizationId));
        return true;
      })
      .query(true)
      .times(7)
      .reply(204);
    await h.worker.drain({ maxWaitMs: 0 });
    expect(order).toHaveLength(7);
    expect(order[0]).toBe(`6${AUTH_ID.slice(1)}`);
  });

  it("a token a backfill queued, found again by a push, keeps its one job and takes the push's priority", async () => {
    const h = await harness(dir.path);
    const t = tokens(13);
    const pat = t.adoPat();
    await new Registry(h.store).add(new Secret(pat), { org: "contoso", authorizationId: AUTH_ID });
    await h.act(scanText(pat, "old.txt"), { revoke: true, priority: PRIORITY.bulk });
    await h.act(scanText(pat, "new.txt"), { revoke: true, priority: PRIORITY.live });
    const jobs = await h.store.jobs.list({ kind: "revoke" });
    expect(jobs.map((j) => j.priority)).toEqual([PRIORITY.live]);
    expect(await h.store.audit.list({ action: "revoke.enqueue" })).toHaveLength(1);
  });

  it("1,001 GitHub tokens due together make two calls: 1,000, then 1", async () => {
    const h = await harness(dir.path);
    const t = tokens(11);
    const values = Array.from({ length: 1001 }, () => t.githubPat());
    await h.act(scanText(values.join("\n")), { revoke: true, policy: "all" });
    const sizes: number[] = [];
    const posted: string[] = [];
    const scope = nock("https://api.github.com")
      .post("/credentials/revoke", (body) => {
        sizes.push(body.credentials.length);
        posted.push(...body.credentials);
        return true;
      })
      .times(2)
      .reply(202);
    await h.worker.drain({ maxWaitMs: 0 });
    expect(scope.isDone()).toBe(true);
    expect(sizes).toEqual([1000, 1]);
    expect(new Set(posted).size).toBe(1001);
    expect([...posted].sort()).toEqual([...values].sort());
    expect(await h.store.audit.list({ action: "revoke.attempt" })).toHaveLength(2);
    expect(h.outcomes.filter((o) => o.outcome === "revoked")).toHaveLength(1001);
  }, 30_000);

  it("keeps to GitHub's 60 calls an hour across processes, counting calls in the audit log", async () => {
    const h = await harness(dir.path);
    const start = h.clock.now;
    h.advance(-30 * 60 * 1000);
    for (let i = 0; i < 60; i++) await h.store.audit.record({ action: "revoke.attempt", provider: "github" });
    h.clock.now = start;
    await h.act(scanText(tokens(10).githubPat()), { revoke: true, policy: "all" });
    await h.worker.runDue(); // nock would refuse a call
    expect((await h.store.jobs.list())[0]).toMatchObject({
      state: "pending",
      attempts: 0,
      runAfter: h.at(30 * 60 * 1000),
    });
    expect(h.logs.join("\n")).toMatch(/github: no calls until .*60 calls per 60 minutes/);
    // The waiting job says why, in the audit log and to /healthz.
    expect((await h.store.audit.list({ action: "revoke.wait" }))[0]).toMatchObject({
      provider: "github",
      detail: { tokens: 1, until: h.at(30 * 60 * 1000), reason: "60 calls per 60 minutes" },
    });
    expect(h.worker.waiting()).toEqual([
      { provider: "github", until: h.at(30 * 60 * 1000), reason: "60 calls per 60 minutes" },
    ]);
  });
});

describe("crash recovery and concurrency", () => {
  it("resumes at once a job whose worker process died, and leaves a live worker's job alone until its lease ends", async () => {
    const h = await harness(dir.path);
    const t = tokens(12);
    await h.act(scanText(t.make("slack-bot-token")), { revoke: true, policy: "all" });
    await h.act(scanText(t.make("slack-user-token")), { revoke: true, policy: "all" });
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    const [a, b] = await h.store.jobs.list();
    await h.store.jobs.claim({
      kind: "revoke",
      owner: `${hostname()}:${dead}:deadbeef`,
      leaseMs: 3_600_000,
      limit: 1,
    });
    await h.store.jobs.claim({ kind: "revoke", owner: "elsewhere:1:cafe", leaseMs: 60_000, limit: 1 });
    const scope = nock("https://slack.com").post("/api/auth.revoke").reply(200, { ok: true, revoked: true });
    await h.worker.runDue();
    expect(scope.isDone()).toBe(true);
    expect((await h.store.jobs.byId(a?.id as number))?.state).toBe("done");
    expect(await h.store.jobs.byId(b?.id as number)).toMatchObject({
      state: "running",
      owner: "elsewhere:1:cafe",
    });
    expect(await h.actions()).toContain("revoke.resume");
    h.advance(60_001);
    nock("https://slack.com").post("/api/auth.revoke").reply(200, { ok: false, error: "token_revoked" });
    await h.worker.runDue();
    expect(await h.store.jobs.byId(b?.id as number)).toMatchObject({
      state: "done",
      outcome: "already-revoked",
    });
  });

  it("a worker that lost its lease does not record an outcome over the new owner's", async () => {
    const h = await harness(dir.path, { leaseMs: 1000 });
    await h.act(scanText(tokens(13).make("gitlab-pat-routable")), { revoke: true, policy: "all" });
    nock("https://gitlab.com")
      .delete("/api/v4/personal_access_tokens/self")
      .reply(async () => {
        h.advance(2000); // the call outlives the lease...
        await h.store.jobs.claim({ kind: "revoke", owner: "other:1:abcd", leaseMs: 60_000, limit: 1 }); // ...and another worker takes over
        return [204, ""];
      });
    await h.worker.runDue();
    expect((await h.store.jobs.list())[0]).toMatchObject({ state: "running", owner: "other:1:abcd" });
    expect(h.outcomes).toEqual([]);
    expect(h.logs.join("\n")).toMatch(/another worker took it over/);
  });

  it("runs continuously and wakes for a job just queued", async () => {
    const h = await harness(dir.path, { sleep: undefined, pollMs: 5000 });
    h.worker.start();
    const scope = nock("https://slack.com").post("/api/auth.revoke").reply(200, { ok: true, revoked: true });
    const heard = new Promise((resolve) => h.worker.onOutcome(resolve));
    await h.act(scanText(tokens(14).make("slack-bot-token")), { revoke: true, policy: "all" });
    h.worker.notify();
    await expect(heard).resolves.toMatchObject({ outcome: "revoked", provider: "slack" });
    await h.worker.stop();
    expect(scope.isDone()).toBe(true);
  });

  it("drain leaves a retry that is due after the wait in the queue", async () => {
    const h = await harness(dir.path);
    await h.act(scanText(tokens(15).make("slack-bot-token")), { revoke: true, policy: "all" });
    nock("https://slack.com").post("/api/auth.revoke").reply(429, {}, { "Retry-After": "300" });
    expect(await h.worker.drain({ maxWaitMs: 60_000 })).toEqual({ processed: 1, pending: 1, running: 0 });
    expect(h.sleeps).toEqual([]);
    nock("https://slack.com").post("/api/auth.revoke").reply(200, { ok: true, revoked: true });
    expect(await h.worker.drain({ maxWaitMs: 600_000 })).toEqual({ processed: 1, pending: 0, running: 0 });
    expect(h.sleeps).toEqual([300_000]);
  });
});

describe("secrets at rest", () => {
  it("a by-value revocation keeps the token only sealed, and erases it when the job ends", async () => {
    const h = await harness(dir.path);
    const t = tokens(16);
    const values = [
      t.githubPat(),
      t.make("gitlab-pat-routable"),
      t.make("slack-bot-token"),
      t.make("github-installation-token"),
    ];
    const ado = t.adoPat();
    await registerAdo(h, ado);
    await h.act(scanText([...values, ado].join("\n")), { revoke: true, policy: "all" });
    const jobs = await h.store.jobs.list();
    expect(jobs.filter((j) => j.sealed !== null)).toHaveLength(4); // the four by-value ones
    expectNotInFiles(databaseFiles(h.path), [...values, ado]);
    nock("https://api.github.com").post("/credentials/revoke").reply(202);
    nock("https://api.github.com").delete("/installation/token").reply(204);
    nock("https://gitlab.com").delete("/api/v4/personal_access_tokens/self").reply(500);
    nock("https://slack.com").post("/api/auth.revoke").reply(200, { ok: true, revoked: true });
    nock(ADO).post(TOKEN_ADMIN).query(true).reply(204);
    await h.worker.runDue();
    const after = await h.store.jobs.list();
    expect(after.filter((j) => j.state === "done").every((j) => j.sealed === null)).toBe(true);
    expect(after.find((j) => j.queue === "gitlab")).toMatchObject({
      state: "pending",
      sealed: expect.any(Buffer),
    });
    expectNotInFiles(databaseFiles(h.path), [...values, ado]);
    expectNotInText(
      [...h.logs, JSON.stringify(await h.store.audit.list()), JSON.stringify(h.outcomes)],
      [...values, ado],
    );
  });

  it("a sealed value that no longer opens fails the job with a clear reason", async () => {
    const h = await harness(dir.path);
    await h.act(scanText(tokens(17).githubPat()), { revoke: true, policy: "all" });
    const { RevocationWorker } = await import("../../src/revoke/worker.js");
    // The same database opened with another key.
    const otherKey = await openStore({ path: h.path, env: { LEAKWARDEN_KEY: "cd".repeat(32) } });
    const worker = new RevocationWorker({ store: otherKey, revokers: h.revokers });
    const outcomes: string[] = [];
    worker.onOutcome((o) => outcomes.push(o.detail ?? ""));
    await worker.runDue();
    expect(outcomes[0]).toMatch(/does not open with the current key/);
    await otherKey.close();
  });
});
