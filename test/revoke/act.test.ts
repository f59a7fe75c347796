import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import { requestRevocation, resolveFinding, TriageError, ValueNeededError } from "../../src/revoke/triage.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret } from "../../src/scan/secret.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";
import { AUTH_ID, harness, scanText } from "./harness.js";

const dir = tempDir();
afterAll(dir.remove);
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});
const rules = loadRules([]);

describe("the revocation policy", () => {
  const t = tokens(21);
  const github = t.githubPat();
  const ado = t.adoPat();
  const adoNoId = t.adoPat();
  const npm = t.make("npm-token");
  const text = [github, ado, adoNoId, npm].map((v, i) => `k${i}=${v}`).join("\n");

  async function setup() {
    const h = await harness(dir.path);
    const registry = new Registry(h.store);
    await registry.add(new Secret(ado), { org: "contoso", authorizationId: AUTH_ID, name: "build" });
    await registry.add(new Secret(adoNoId), { name: "legacy" });
    return h;
  }
  const statuses = async (h: Awaited<ReturnType<typeof harness>>, policy: "registered" | "all" | "off") =>
    (await h.act(scanText(text), { revoke: true, policy })).actions.map((a) => [
      a.revocation?.status,
      a.revocation?.reason ?? "",
    ]);

  it("registered (the default): only registry matches are revoked", async () => {
    const h = await setup();
    expect(await statuses(h, "registered")).toEqual([
      ["skipped", expect.stringMatching(/not in the registry/)],
      ["pending", ""],
      ["not-revocable", expect.stringMatching(/no organisation and authorization id/)],
      ["not-revocable", expect.stringMatching(/cannot revoke npm tokens/)],
    ]);
    expect((await h.store.jobs.list()).map((j) => j.queue)).toEqual(["azure-devops"]);
  });

  it("all: also unregistered tokens that can be revoked by value", async () => {
    const h = await setup();
    expect((await statuses(h, "all")).map(([s]) => s)).toEqual([
      "pending",
      "pending",
      "not-revocable",
      "not-revocable",
    ]);
    const unregisteredAdo = await harness(dir.path);
    const result = await unregisteredAdo.act(scanText(ado), { revoke: true, policy: "all" });
    expect(result.actions[0]?.revocation?.reason).toMatch(
      /Azure DevOps revokes a PAT only by its authorization id/,
    );
  });

  it("off: reports only", async () => {
    const h = await setup();
    expect((await statuses(h, "off")).map(([s]) => s)).toEqual(["skipped", "skipped", "skipped", "skipped"]);
    expect(await h.store.jobs.list()).toEqual([]);
    expect(await h.store.findings.list()).toHaveLength(4);
  });

  it("--dry-run says what would be called and writes nothing", async () => {
    const h = await setup();
    const before = (await h.store.audit.list()).length;
    const { actions } = await h.act(scanText(text), { dryRun: true, policy: "all" });
    expect(actions[0]?.revocation).toEqual({
      status: "would-revoke",
      provider: "github",
      at: null,
      reason: "POST https://api.github.com/credentials/revoke",
    });
    expect(actions[1]?.revocation?.reason).toBe(
      "POST https://vssps.dev.azure.com/contoso/_apis/tokenadmin/revocations?api-version=7.1",
    );
    expect(actions[1]?.registry).toMatchObject({ name: "build" });
    expect(actions.every((a) => a.findingId === null)).toBe(true);
    expect(await h.store.findings.list()).toEqual([]);
    expect(await h.store.jobs.list()).toEqual([]);
    expect(await h.store.audit.list()).toHaveLength(before);
  });

  it("record and match each do only their part", async () => {
    const h = await setup();
    const recorded = await h.act(scanText(text), { record: true });
    expect(recorded.actions.map((a) => [a.findingId, a.registry, a.revocation])).toEqual([
      [1, null, null],
      [2, null, null],
      [3, null, null],
      [4, null, null],
    ]);
    const matched = await h.act(scanText(text), { match: true });
    expect(matched.actions.map((a) => a.registry?.name ?? null)).toEqual([null, "build", "legacy", null]);
    expect(await h.store.findings.list()).toHaveLength(4); // matched, not recorded again
  });
});

describe("triage", () => {
  it("a finding resolved as accepted risk does not trigger a revocation when found again", async () => {
    const h = await harness(dir.path);
    const gh = tokens(22).githubPat();
    const first = await h.act(scanText(gh), { record: true });
    await resolveFinding(
      h.store,
      first.actions[0]?.findingId as number,
      "accepted-risk",
      "rotated next week",
    );
    const again = await h.act(scanText(gh), { revoke: true, policy: "all" });
    expect(again.actions[0]?.revocation).toMatchObject({
      status: "skipped",
      reason: "resolved as accepted-risk",
    });
    expect(await h.store.jobs.list()).toEqual([]);
    expect((await h.store.audit.list({ action: "finding.resolve" }))[0]?.detail).toMatchObject({
      resolution: "accepted-risk",
      note: "rotated next week",
    });
  });

  it("revoked by hand: the queued job is cancelled, its sealed value erased, the token and its findings revoked", async () => {
    const h = await harness(dir.path);
    const gh = tokens(23).githubPat();
    const { actions } = await h.act(scanText(`${gh}\nagain ${gh}`), { revoke: true, policy: "all" });
    expect((await h.store.jobs.list())[0]?.sealed).not.toBeNull();
    await resolveFinding(h.store, actions[0]?.findingId as number, "revoked-manually", null);
    expect((await h.store.jobs.list())[0]).toMatchObject({ state: "cancelled", sealed: null });
    expect((await h.store.findings.list()).map((f) => f.status)).toEqual(["resolved", "revoked"]);
    expect(await h.actions()).toContain("revoke.cancel");
  });
});

describe("a revocation requested by hand", () => {
  it("needs the value again for a by-value job that died, checks it against the finding, and re-arms the job", async () => {
    const h = await harness(dir.path, { maxAttempts: 1 });
    const t = tokens(24);
    const gh = t.githubPat();
    const { actions } = await h.act(scanText(gh), { revoke: true, policy: "all" });
    nock("https://api.github.com").post("/credentials/revoke").reply(500);
    await h.worker.drain({ maxWaitMs: 0 });
    const finding = await h.store.findings.byId(actions[0]?.findingId as number);
    if (!finding) throw new Error("finding missing");
    expect((await h.store.jobs.list())[0]).toMatchObject({ state: "dead", sealed: null });
    await expect(requestRevocation(h.store, h.revokers, rules, finding, {})).rejects.toThrow(
      ValueNeededError,
    );
    await expect(
      requestRevocation(h.store, h.revokers, rules, finding, { secret: new Secret(t.githubPat()) }),
    ).rejects.toThrow(/not the one of finding #1/);
    const request = await requestRevocation(h.store, h.revokers, rules, finding, { secret: new Secret(gh) });
    expect(request).toEqual({ state: "queued", jobId: 1, how: "rearmed" });
    nock("https://api.github.com")
      .post("/credentials/revoke", { credentials: [gh] })
      .reply(202);
    await h.worker.drain({ maxWaitMs: 0, jobIds: [1] });
    expect(await h.store.jobs.byId(1)).toMatchObject({ state: "done", attempts: 1, sealed: null });
    expect(await h.actions()).toEqual(expect.arrayContaining(["revoke.request", "revoke.rearm"]));
  });

  it("refuses what cannot be revoked, with the reason", async () => {
    const h = await harness(dir.path);
    const { actions } = await h.act(scanText(tokens(25).adoPat()), { record: true });
    const finding = await h.store.findings.byId(actions[0]?.findingId as number);
    if (!finding) throw new Error("finding missing");
    await expect(requestRevocation(h.store, h.revokers, rules, finding, {})).rejects.toThrow(TriageError);
    await expect(requestRevocation(h.store, h.revokers, rules, finding, {})).rejects.toThrow(
      /not in the registry/,
    );
  });
});
