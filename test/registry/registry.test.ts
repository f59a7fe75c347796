import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { addDays } from "../../src/registry/dates.js";
import { auditRegistry } from "../../src/registry/hygiene.js";
import { mintAdoPat, mintAndRegister } from "../../src/registry/mint.js";
import { Registry } from "../../src/registry/registry.js";
import { providerSettings } from "../../src/revoke/settings.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { openStore } from "../../src/store/index.js";
import type { TokenRecord } from "../../src/store/tokens.js";
import { tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
afterAll(dir.remove);
let n = 0;
const AUTH_ID = "7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
const NOW = new Date("2026-11-28T10:00:00.000Z");
async function fresh() {
  const path = `${dir.path}/registry-${++n}.db`;
  const store = await openStore({ path, env: {}, clock: () => NOW, actor: "test" });
  return { path, store, registry: new Registry(store) };
}

describe("adding a token", () => {
  const t = tokens(31);

  it("keeps the hash, a preview and the metadata; the provider comes from the format", async () => {
    const { path, store, registry } = await fresh();
    const pat = t.adoPat();
    const { token, warnings } = await registry.add(new Secret(pat), {
      org: "contoso",
      authorizationId: AUTH_ID.toUpperCase(),
      scopes: ["vso.code", "vso.build"],
      expiresAt: "2027-01-31T23:59:59.999Z",
    });
    expect(warnings).toEqual([]);
    expect(token).toMatchObject({
      secretHash: secretHash(pat),
      preview: `…${pat.slice(-4)}`,
      provider: "azure-devops",
      ruleId: "azure-devops-pat",
      authorizationId: AUTH_ID,
      scopes: ["vso.code", "vso.build"],
      createdAt: NOW.toISOString(),
    });
    expect((await registry.lookup(secretHash(pat)))?.id).toBe(token.id);
    expect((await store.audit.list())[0]).toMatchObject({
      action: "registry.add",
      subject: `token:${token.id}`,
    });
    expectNotInFiles(databaseFiles(path), [pat]);
  });

  it("recognises every revocable format, legacy Azure DevOps PATs included", async () => {
    const { registry } = await fresh();
    for (const [format, provider] of [
      ["azure-devops-pat-legacy", "azure-devops"],
      ["github-pat", "github"],
      ["github-installation-token", "github"],
      ["gitlab-pat-routable", "gitlab"],
      ["slack-bot-token", "slack"],
      ["npm-token", "npm"],
    ]) {
      const { token } = await registry.add(new Secret(t.make(format as string)), {});
      expect([format, token.provider]).toEqual([format, provider]);
    }
  });

  it("refuses a value that is no known format, a broken checksum, or a wrong provider, unless forced", async () => {
    const { registry } = await fresh();
    await expect(registry.add(new Secret("hunter2hunter2"), {})).rejects.toThrow(
      /not a token format leakwarden knows/,
    );
    await expect(registry.add(new Secret("hunter2hunter2"), {}, { force: true })).rejects.toThrow(
      /--provider is needed/,
    );
    expect(
      (await registry.add(new Secret("hunter2hunter2"), { provider: "acme" }, { force: true })).token,
    ).toMatchObject({
      provider: "acme",
      ruleId: null,
    });
    const broken = t.corrupt(t.adoPat());
    await expect(registry.add(new Secret(broken), {})).rejects.toThrow(
      /checksum fails, so it was probably mistyped/,
    );
    await expect(registry.add(new Secret(t.githubPat()), { provider: "gitlab" })).rejects.toThrow(
      /GitHub personal access token \(classic\) \(provider github\), not gitlab/,
    );
    await expect(registry.add(new Secret(`${t.githubPat()} extra`), {})).rejects.toThrow(/whitespace/);
  });

  it("checks Azure DevOps revocation data, and warns when revocation will be impossible", async () => {
    const { registry } = await fresh();
    await expect(
      registry.add(new Secret(t.adoPat()), { org: "contoso", authorizationId: "42" }),
    ).rejects.toThrow(/must be a UUID/);
    await expect(registry.add(new Secret(t.adoPat()), { authorizationId: AUTH_ID })).rejects.toThrow(
      /needs its --org/,
    );
    await expect(
      registry.add(new Secret(t.githubPat()), { org: "x", authorizationId: AUTH_ID }),
    ).rejects.toThrow(/only applies to Azure DevOps/);
    expect((await registry.add(new Secret(t.adoPat()), {})).warnings[0]).toMatch(
      /can recognise .* but not revoke it/,
    );
  });

  it("refuses a token registered twice, naming the entry", async () => {
    const { registry } = await fresh();
    const gh = t.githubPat();
    const { token } = await registry.add(new Secret(gh), {});
    await expect(registry.add(new Secret(gh), {})).rejects.toThrow(`already registered as #${token.id}`);
  });
});

describe("importing JSON Lines", () => {
  const t = tokens(32);

  it("imports all lines, and re-importing updates instead of duplicating", async () => {
    const { path, registry } = await fresh();
    const values = [t.adoPat(), t.githubPat()];
    const text = [
      JSON.stringify({
        token: values[0],
        org: "contoso",
        authorizationId: AUTH_ID,
        owner: "alice",
        scopes: "vso.code",
      }),
      "",
      JSON.stringify({ token: values[1], name: "ci", expires: "2027-02-01", created: "2026-01-01" }),
    ].join("\n");
    expect(await registry.importJsonLines(text)).toMatchObject({ added: 2, updated: 0 });
    const ci = (await registry.list())[1] as TokenRecord;
    expect(ci).toMatchObject({
      expiresAt: "2027-02-01T23:59:59.999Z",
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    expect(await registry.importJsonLines(text.replace('"ci"', '"ci-2"'))).toMatchObject({
      added: 0,
      updated: 2,
    });
    expect((await registry.list()).map((r) => r.name)).toEqual([null, "ci-2"]);
    expectNotInFiles(databaseFiles(path), values);
  });

  it("is all or nothing, and its errors name the line but never quote it", async () => {
    const { registry } = await fresh();
    const good = t.githubPat();
    const bad = t.corrupt(t.githubPat());
    for (const [line2, message] of [
      [`{"token": "${bad}"}`, /line 2: .*not a token format/],
      [`{"token": "${good}x`, /line 2: not a JSON object/],
      [`{"token": "${t.githubPat()}", "colour": "red"}`, /line 2: unknown field "colour"/],
      [`{"token": "${t.githubPat()}", "expires": "soon"}`, /line 2: "expires" must be a date/],
      [`{"token": "${good}"}`, /line 2: the same token is on line 1/],
    ] as const) {
      let error: Error | undefined;
      try {
        await registry.importJsonLines(`{"token": "${good}"}\n${line2}`);
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).toMatch(/nothing was imported/);
      expect(error?.message).not.toContain(good);
      expect(error?.message).not.toContain(bad);
      expect(await registry.list()).toEqual([]);
    }
  });
});

describe("the hygiene report", () => {
  const token = (over: Partial<TokenRecord>): TokenRecord => ({
    id: 1,
    secretHash: secretHash("x"),
    preview: "…",
    provider: "azure-devops",
    ruleId: "azure-devops-pat",
    org: "contoso",
    authorizationId: AUTH_ID,
    owner: null,
    name: null,
    scopes: ["vso.code"],
    allOrgs: false,
    minted: false,
    createdAt: "2026-11-01T00:00:00.000Z",
    expiresAt: "2027-05-01T00:00:00.000Z",
    registeredAt: "2026-11-01T00:00:00.000Z",
    revokedAt: null,
    ...over,
  });

  it("finds expired, full-scoped, global, unrevocable, expiring and old tokens", () => {
    const problems = auditRegistry(
      [
        token({ id: 1 }),
        token({ id: 2, expiresAt: "2026-11-01T00:00:00.000Z", scopes: ["app_token"] }),
        token({ id: 3, scopes: ["app_token"] }),
        token({ id: 4, allOrgs: true }),
        token({ id: 5, expiresAt: "2026-12-04T00:00:00.000Z" }),
        token({ id: 6, createdAt: "2026-08-01T00:00:00.000Z" }),
        token({ id: 7, authorizationId: null }),
        token({ id: 8, scopes: ["app_token"], revokedAt: "2026-11-02T00:00:00.000Z" }),
      ],
      NOW,
    );
    expect(problems.map((p) => [p.check, p.token.id])).toEqual([
      ["full-scope", 3],
      ["all-orgs", 4],
      ["not-revocable", 7],
      ["expiring-soon", 5],
      ["old", 6],
      ["expired", 2],
    ]);
    expect(problems[1]?.detail).toMatch(/stop working on 2026-12-01, in 3 days/);
    expect(problems[4]?.detail).toMatch(/created 119 days ago/);
    expect(auditRegistry([token({ allOrgs: true })], new Date("2026-12-02T00:00:00Z"))[0]?.detail).toMatch(
      /stopped working on 2026-12-01/,
    );
  });
});

describe("minting an Azure DevOps PAT", () => {
  const settings = providerSettings({}, { adoToken: "entra-token", timeoutMs: 500 });
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("POSTs to the PAT lifecycle API and registers the new PAT by hash, with its authorization id", async () => {
    const { path, registry } = await fresh();
    const pat = tokens(33).adoPat();
    const validTo = addDays(NOW, 30).toISOString();
    const scope = nock("https://vssps.dev.azure.com", {
      reqheaders: { authorization: "Bearer entra-token", "content-type": "application/json" },
    })
      .post("/contoso/_apis/tokens/pats", {
        displayName: "deploy",
        scope: "vso.code vso.build",
        validTo,
        allOrgs: false,
      })
      .query({ "api-version": "7.1-preview.1" })
      .reply(200, {
        patToken: {
          displayName: "deploy",
          validTo,
          scope: "vso.code vso.build",
          targetAccounts: ["org-guid"],
          validFrom: NOW.toISOString(),
          authorizationId: AUTH_ID,
          token: pat,
        },
        patTokenError: "none",
      });
    const { minted, token } = await mintAndRegister(
      registry,
      { org: "contoso", name: "deploy", scopes: ["vso.code", "vso.build"], lifetimeDays: 30, owner: "alice" },
      settings,
      NOW,
    );
    expect(scope.isDone()).toBe(true);
    expect(minted.token.reveal()).toBe(pat);
    expect(token).toMatchObject({
      secretHash: secretHash(pat),
      authorizationId: AUTH_ID,
      minted: true,
      allOrgs: false,
      expiresAt: validTo,
      owner: "alice",
      ruleId: "azure-devops-pat",
    });
    expectNotInFiles(databaseFiles(path), [pat]);
  });

  it("refuses full access without --allow-full-scope, lifetimes over a year, and a missing credential", async () => {
    const request = { org: "contoso", name: "x", scopes: ["app_token"], lifetimeDays: 30 };
    await expect(mintAdoPat(request, settings, NOW)).rejects.toThrow(/app_token gives full access/);
    await expect(
      mintAdoPat({ ...request, scopes: ["vso.code"], lifetimeDays: 366 }, settings, NOW),
    ).rejects.toThrow(/at most one year/);
    await expect(mintAdoPat({ ...request, scopes: ["code"] }, settings, NOW)).rejects.toThrow(
      /not an Azure DevOps scope/,
    );
    await expect(
      mintAdoPat({ ...request, scopes: ["vso.code"] }, providerSettings({}, { adoToken: undefined }), NOW),
    ).rejects.toThrow(/no Azure DevOps credential/);
  });

  it("reports Azure DevOps policy errors and HTTP errors without leaking the credential", async () => {
    nock("https://vssps.dev.azure.com").post("/contoso/_apis/tokens/pats").query(true).reply(200, {
      patToken: null,
      patTokenError: "fullScopePatPolicyViolation",
      patTokenErrorMessage: "Policy",
    });
    const request = { org: "contoso", name: "x", scopes: ["vso.code"], lifetimeDays: 30 };
    await expect(mintAdoPat(request, settings, NOW)).rejects.toThrow(
      /refused to create the PAT: fullScopePatPolicyViolation \(Policy\)/,
    );
    nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokens/pats")
      .query(true)
      .reply(401, { message: "no" });
    const error = await mintAdoPat(request, settings, NOW).catch((e: Error) => e);
    expect(String(error)).toMatch(/answered 401/);
    expect(String(error)).not.toContain("entra-token");
  });

  it("revokes the new PAT again when it cannot be registered", async () => {
    const { registry } = await fresh();
    const pat = tokens(34).adoPat();
    await registry.add(new Secret(pat), {}); // already there: registration will fail
    nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokens/pats")
      .query(true)
      .reply(200, { patToken: { authorizationId: AUTH_ID, token: pat }, patTokenError: "none" });
    const undo = nock("https://vssps.dev.azure.com")
      .delete("/contoso/_apis/tokens/pats")
      .query({ authorizationId: AUTH_ID, "api-version": "7.1-preview.1" })
      .reply(204);
    await expect(
      mintAndRegister(
        registry,
        { org: "contoso", name: "x", scopes: ["vso.code"], lifetimeDays: 30 },
        settings,
        NOW,
      ),
    ).rejects.toThrow(/could not be registered .*it was revoked again/);
    expect(undo.isDone()).toBe(true);
  });
});
