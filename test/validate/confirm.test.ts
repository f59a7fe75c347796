// Confirmed revocation on a real SQLite file with a clock the test moves, providers through nock: revoked
// (confirmed), revocation accepted while the token still works inside its provider's window, revocation did not
// take after it (reported as not revoked, findings open again, audited), re-checks as durable jobs that a
// restarted worker picks up; and policy `live`.
import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import { revocationKey } from "../../src/revoke/queue.js";
import { findingState } from "../../src/revoke/triage.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { builtInValidators, LiveChecker } from "../../src/validate/checker.js";
import {
  CONFIRM_KIND,
  type ConfirmationOutcome,
  ConfirmationWorker,
  confirmKey,
} from "../../src/validate/confirm.js";
import { validateFindings } from "../../src/validate/findings.js";
import { validateSettings } from "../../src/validate/settings.js";
import { AUTH_ID, harness, scanText } from "../revoke/harness.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
afterAll(dir.remove);
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

async function setup() {
  const h = await harness(dir.path);
  const settings = validateSettings({}, { timeoutMs: 300, now: () => h.clock.now.getTime() });
  const checker = new LiveChecker({ store: h.store, validators: builtInValidators(settings), ttlMs: 60_000 });
  const confirmed: ConfirmationOutcome[] = [];
  const confirmer = () => {
    const worker = new ConfirmationWorker({ store: h.store, checker });
    worker.onOutcome((o) => confirmed.push(o));
    return worker;
  };
  const act = (text: string, policy: "registered" | "all" | "live" = "all", verdicts?: Map<string, never>) =>
    h.act(scanText(text), {
      revoke: true,
      policy,
      verdicts,
      confirm: (ruleId, org) => checker.canCheck(ruleId, { org }),
    });
  const state = async () =>
    (await findingState(h.store, (await h.store.findings.list())[0] as never)).revocation;
  return { ...h, checker, confirmed, confirmer, act, state };
}

describe("after GitHub accepts a revocation (202)", () => {
  const t = tokens(1012);

  it("a token that no longer works is revoked (confirmed)", async () => {
    const h = await setup();
    const token = t.githubPat();
    await h.act(`GITHUB_TOKEN=${token}`);
    nock("https://api.github.com").post("/credentials/revoke").reply(202, {});
    await h.worker.runDue();
    nock("https://api.github.com").get("/user").reply(401, { message: "Bad credentials" });
    expect(await h.confirmer().runDue()).toBe(1);
    expect(h.confirmed).toMatchObject([{ status: "confirmed" }]);
    expect(await h.state()).toMatchObject({ status: "revoked", confirmation: "confirmed" });
    expect((await h.store.findings.list())[0]?.status).toBe("revoked");
  });

  it("a revoked token that still validates is accepted, then reported as not revoked once the window closes", async () => {
    const h = await setup();
    const token = t.githubPat();
    await h.act(`GITHUB_TOKEN=${token}`);
    nock("https://api.github.com").post("/credentials/revoke").reply(202, {});
    await h.worker.runDue();
    nock("https://api.github.com").get("/user").times(20).reply(200, { login: "octocat" });
    const worker = h.confirmer();
    await worker.runDue();
    expect(h.confirmed).toMatchObject([{ status: "accepted" }]);
    expect(await h.state()).toMatchObject({ status: "revoked", confirmation: "accepted" });
    // Re-checks are rows in the queue, due later: nothing is held in a timer.
    const pending = await h.store.jobs.list({ kind: CONFIRM_KIND, state: "pending" });
    expect(pending).toHaveLength(1);
    expect(Date.parse(pending[0]?.runAfter ?? "")).toBeGreaterThan(h.clock.now.getTime());
    let checks = 1;
    for (
      let i = 0;
      i < 10 && (await h.store.jobs.list({ kind: CONFIRM_KIND, state: "pending" })).length > 0;
      i++
    ) {
      h.advance(Date.parse((await h.store.jobs.nextRunAfter(CONFIRM_KIND)) ?? "") - h.clock.now.getTime());
      checks += await h.confirmer().runDue();
    }
    expect(checks).toBeGreaterThan(2);
    expect(h.confirmed.map((o) => o.status)).toEqual(["accepted", "did-not-take"]);
    expect(h.confirmed[1]?.detail).toMatch(
      /said the token was revoked, but it still works \(GitHub user octocat\) 15 minutes later/,
    );
    expect(await h.state()).toMatchObject({
      status: "failed",
      confirmation: "did-not-take",
      reason: expect.stringMatching(/said the token was revoked, but it still works/),
    });
    expect((await h.store.findings.list())[0]?.status).toBe("open");
    expect(await h.actions()).toContain("revoke.did-not-take");
    expect(JSON.stringify(await h.store.audit.list())).not.toContain(token);
  });
});

describe("checks claimed together", () => {
  it("confirm a revocation that ended, put off one under way, and drop one that never happened", async () => {
    const h = await setup();
    const t = tokens(1015);
    const [ended, underWay, never] = [t.githubPat(), t.githubPat(), t.githubPat()];
    await h.act(`GITHUB_TOKEN=${ended}`);
    nock("https://api.github.com").post("/credentials/revoke").reply(202, {});
    await h.worker.runDue();
    await h.act(`GITHUB_TOKEN=${underWay}`);
    await h.act(`GITHUB_TOKEN=${never}`);
    const revocation = async (token: string) =>
      (await h.store.jobs.byKey(revocationKey(secretHash(token)))) as { id: number };
    await h.store.jobs.cancel((await revocation(never)).id, "a person cancelled it");
    nock("https://api.github.com").get("/user").reply(401, { message: "Bad credentials" });

    expect(await h.confirmer().runDue()).toBe(3);

    expect(h.confirmed).toMatchObject([{ status: "confirmed", secretHash: secretHash(ended) }]);
    const confirmation = async (token: string) => h.store.jobs.byKey(confirmKey(secretHash(token)));
    const putOff = await confirmation(underWay);
    expect(putOff).toMatchObject({ state: "pending", attempts: 0 });
    expect(Date.parse(putOff?.runAfter ?? "")).toBe(h.clock.now.getTime() + 5_000);
    expect(await confirmation(never)).toMatchObject({ state: "cancelled" });
    expect(nock.isDone()).toBe(true); // one live check: only the ended revocation's
  });
});

describe("a round of checks", () => {
  it("counts every check's attempt in one statement, and each ends with its own outcome and audit entry", async () => {
    const h = await setup();
    const pats = [tokens(1016).githubPat(), tokens(1017).githubPat(), tokens(1018).githubPat()];
    for (const pat of pats) await h.act(`GITHUB_TOKEN=${pat}`);
    // One call revokes the three (GitHub takes a batch of credentials).
    nock("https://api.github.com").post("/credentials/revoke").reply(202, {});
    await h.worker.runDue();
    nock("https://api.github.com").get("/user").times(3).reply(401, { message: "Bad credentials" });
    const starts = vi.spyOn(h.store.jobs, "startAttempt");

    expect(await h.confirmer().runDue()).toBe(3);

    expect(starts).toHaveBeenCalledTimes(1);
    expect(starts.mock.calls[0]?.[0]).toHaveLength(3);
    const hashes = pats.map((pat) => secretHash(pat));
    expect(h.confirmed.map((o) => o.secretHash).sort()).toEqual([...hashes].sort());
    expect(h.confirmed.every((o) => o.status === "confirmed")).toBe(true);
    for (const hash of hashes) {
      const job = await h.store.jobs.byKey(confirmKey(hash));
      expect(job).toMatchObject({ state: "done", outcome: "confirmed", attempts: 1 });
      const entries = await h.store.audit.list({ secretHash: hash, action: "revoke.confirmed" });
      expect(entries.map((e) => e.subject)).toEqual([`job:${job?.id}`]);
    }
    expect(nock.isDone()).toBe(true);
  });
});

describe("Azure DevOps: a revoked PAT may work for up to an hour", () => {
  it("re-checks with backoff across restarts, and confirms once it stops working inside the hour", async () => {
    const h = await setup();
    const pat = tokens(1013).adoPat();
    await new Registry(h.store).add(new Secret(pat), {
      org: "contoso",
      authorizationId: AUTH_ID,
      name: "deploy",
    });
    await h.act(`AZURE_DEVOPS_EXT_PAT=${pat}`, "registered");
    nock("https://vssps.dev.azure.com").post("/contoso/_apis/tokenadmin/revocations").query(true).reply(204);
    await h.worker.runDue();
    const connection = () => nock("https://dev.azure.com").get("/contoso/_apis/connectionData").query(true);
    connection()
      .times(3)
      .reply(200, { authenticatedUser: { providerDisplayName: "Dana" } });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await h.confirmer().runDue(); // a new worker each time: a restarted App
      const next = Date.parse((await h.store.jobs.nextRunAfter(CONFIRM_KIND)) ?? "") - h.clock.now.getTime();
      waits.push(next);
      h.advance(next);
    }
    expect(waits).toEqual([30_000, 60_000, 120_000]);
    expect(await h.state()).toMatchObject({ confirmation: "accepted" });
    connection().reply(401);
    await h.confirmer().runDue();
    expect(await h.state()).toMatchObject({ status: "revoked", confirmation: "confirmed" });
    expect(h.confirmed.map((o) => o.status)).toEqual(["accepted", "confirmed"]);
  });
});

describe("policy live", () => {
  it("revokes an unregistered token only when a live check says it works", async () => {
    const h = await setup();
    const t = tokens(1014);
    const live = t.githubPat();
    const dead = t.githubPat();
    nock("https://api.github.com")
      .get("/user")
      .times(2)
      .reply(function () {
        return this.req.headers.authorization === `Bearer ${live}` ? [200, { login: "octocat" }] : [401, {}];
      });
    const findings = scanText(`A=${live}\nB=${dead}\n`);
    const verdicts = await validateFindings(h.store, h.checker, findings);
    const acted = await h.act(`A=${live}\nB=${dead}\n`, "live", verdicts as never);
    expect(acted.actions.map((a) => a.revocation?.status)).toEqual(["pending", "skipped"]);
    expect(acted.actions[1]?.revocation?.reason).toMatch(/only when a live check says they work/);
  });
});
