// Every provider call, exactly as token-formats.md describes it, and what each failure means for a retry.
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { USER_AGENT } from "../../src/revoke/http.js";
import { createRevokers } from "../../src/revoke/providers.js";
import type { ProviderOverrides } from "../../src/revoke/settings.js";
import type { RevocationTarget, Revoker, RevokerName } from "../../src/revoke/types.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { tokens } from "../support/tokens.js";

const t = tokens(404);
const AUTH_ID = "7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
const ENTRA = "entra-access-token-for-tests";
const NOW = Date.parse("2026-11-28T10:00:00Z");

function revoker(name: RevokerName, overrides: ProviderOverrides = {}): Revoker {
  return createRevokers({}, { adoToken: ENTRA, timeoutMs: 300, now: () => NOW, ...overrides }).get(
    name,
  ) as Revoker;
}

function target(value?: string, extra: Partial<RevocationTarget> = {}): RevocationTarget {
  return {
    secretHash: secretHash(value ?? "x"),
    preview: "…",
    secret: value === undefined ? undefined : new Secret(value),
    ...extra,
  };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const GITHUB_HEADERS = {
  accept: "application/vnd.github+json",
  "x-github-api-version": "2022-11-28",
  "user-agent": USER_AGENT,
};

describe("azure-devops", () => {
  const pat = t.adoPat();
  const registered = target(undefined, { org: "contoso", authorizationId: AUTH_ID });

  it("Token Admin API: POST {vssps}/{org}/_apis/tokenadmin/revocations?api-version=7.1, Bearer, [{authorizationId}]", async () => {
    const scope = nock("https://vssps.dev.azure.com", {
      reqheaders: {
        authorization: `Bearer ${ENTRA}`,
        "content-type": "application/json",
        accept: "application/json",
        "user-agent": USER_AGENT,
      },
    })
      .post("/contoso/_apis/tokenadmin/revocations", (body) => {
        expect(body).toEqual([{ authorizationId: AUTH_ID }]);
        return true;
      })
      .query({ "api-version": "7.1" })
      .reply(204);
    const result = await revoker("azure-devops").revoke([registered]);
    expect(result.results).toEqual([{ kind: "revoked" }]);
    expect(result.call).toEqual({
      method: "POST",
      url: "https://vssps.dev.azure.com/contoso/_apis/tokenadmin/revocations?api-version=7.1",
      status: 204,
    });
    expect(scope.isDone()).toBe(true);
  });

  it("PAT lifecycle API for minted PATs: DELETE …/_apis/tokens/pats?authorizationId=…&api-version=7.1-preview.1", async () => {
    const scope = nock("https://vssps.dev.azure.com", { reqheaders: { authorization: `Bearer ${ENTRA}` } })
      .delete("/contoso/_apis/tokens/pats")
      .query({ authorizationId: AUTH_ID, "api-version": "7.1-preview.1" })
      .reply(204);
    const result = await revoker("azure-devops").revoke([{ ...registered, minted: true }]);
    expect(result.results).toEqual([{ kind: "revoked" }]);
    expect(scope.isDone()).toBe(true);
  });

  it("takes the identity service URL from LEAKWARDEN_ADO_VSSPS_URL and the credential from LEAKWARDEN_ADO_TOKEN", async () => {
    const scope = nock("http://ado.local:8080", { reqheaders: { authorization: "Bearer from-env" } })
      .post("/fabrikam/_apis/tokenadmin/revocations")
      .query(true)
      .reply(204);
    const fromEnv = createRevokers({
      LEAKWARDEN_ADO_VSSPS_URL: "http://ado.local:8080/",
      LEAKWARDEN_ADO_TOKEN: "from-env",
    }).get("azure-devops") as Revoker;
    expect((await fromEnv.revoke([{ ...registered, org: "fabrikam" }])).results[0]?.kind).toBe("revoked");
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [404, {}, "already-revoked"],
    [401, {}, "failed"],
    [403, {}, "failed"],
    [400, {}, "failed"],
    [429, { "Retry-After": "30" }, "retry"],
    [500, {}, "retry"],
    [503, {}, "retry"],
  ] as const)("answer %i → %s", async (status, headers, kind) => {
    nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(status, "", headers);
    const result = await revoker("azure-devops").revoke([registered]);
    expect(result.results[0]?.kind).toBe(kind);
    if (status === 429) {
      expect(result.results[0]).toMatchObject({ retryAfterMs: 30_000 });
      expect(result.pauseMs).toBe(30_000);
    }
    if (status === 401)
      expect(JSON.stringify(result.results[0])).toMatch(
        /token from LEAKWARDEN_ADO_TOKEN was refused.*Project Collection Administrator/,
      );
    expect(JSON.stringify(result)).not.toContain(ENTRA);
  });

  it("a lifecycle answer whose patTokenError is authorizationNotFound means already revoked", async () => {
    nock("https://vssps.dev.azure.com")
      .delete("/contoso/_apis/tokens/pats")
      .query(true)
      .reply(200, { patToken: null, patTokenError: "authorizationNotFound" });
    const result = await revoker("azure-devops").revoke([{ ...registered, minted: true }]);
    expect(result.results[0]?.kind).toBe("already-revoked");
  });

  it("a timeout is a retry", async () => {
    nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .delay(1000)
      .reply(204);
    const result = await revoker("azure-devops", { timeoutMs: 50 }).revoke([registered]);
    expect(result.results[0]).toMatchObject({
      kind: "retry",
      error: expect.stringMatching(/no answer within 50 ms/),
    });
  });

  const ids = ["1", "2", "3"].map((n) => `${n}${AUTH_ID.slice(1)}`);
  const ofContoso = ids.map((id) => target(undefined, { org: "contoso", authorizationId: id }));

  it("revokes one organisation's authorizations in one Token Admin call", async () => {
    const ado = revoker("azure-devops");
    expect(new Set(ofContoso.map((one) => ado.batchKey?.(one))).size).toBe(1);
    // Another organisation, and a minted PAT (the lifecycle API takes one), never share that call.
    expect(ado.batchKey?.({ ...registered, org: "fabrikam" })).not.toBe(ado.batchKey?.(registered));
    expect(ado.batchKey?.({ ...registered, minted: true })).not.toBe(ado.batchKey?.(registered));
    const scope = nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokenadmin/revocations", (body) => {
        expect(body).toEqual(ids.map((authorizationId) => ({ authorizationId })));
        return true;
      })
      .query({ "api-version": "7.1" })
      .once()
      .reply(204);
    const result = await ado.revoke(ofContoso);
    expect(result.results).toEqual([{ kind: "revoked" }, { kind: "revoked" }, { kind: "revoked" }]);
    expect(result.call.status).toBe(204);
    expect(scope.isDone()).toBe(true);
  });

  it("asks again one by one when the shared answer cannot say which authorization it means", async () => {
    const alone: string[] = [];
    nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokenadmin/revocations", (body) => body.length === 3)
      .query(true)
      .reply(404)
      .post("/contoso/_apis/tokenadmin/revocations", (body) => {
        alone.push(body[0].authorizationId);
        return body.length === 1 && body[0].authorizationId === ids[1];
      })
      .query(true)
      .reply(404)
      .post("/contoso/_apis/tokenadmin/revocations", (body) => {
        alone.push(body[0].authorizationId);
        return body.length === 1;
      })
      .query(true)
      .times(2)
      .reply(204);
    const result = await revoker("azure-devops").revoke(ofContoso);
    expect(result.results.map((r) => r.kind)).toEqual(["revoked", "already-revoked", "revoked"]);
    expect(alone.filter((id, i) => alone.indexOf(id) === i)).toEqual(ids);
  });

  it("a refused credential or a busy provider answers for every authorization of the call", async () => {
    nock("https://vssps.dev.azure.com")
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(503, {}, { "Retry-After": "7" });
    const busy = await revoker("azure-devops").revoke(ofContoso);
    expect(busy.results.map((r) => r.kind)).toEqual(["retry", "retry", "retry"]);
    expect(busy.pauseMs).toBe(7000);
    nock("https://vssps.dev.azure.com").post("/contoso/_apis/tokenadmin/revocations").query(true).reply(403);
    const refused = await revoker("azure-devops").revoke(ofContoso);
    expect(refused.results.map((r) => r.kind)).toEqual(["failed", "failed", "failed"]);
    expect(JSON.stringify(refused)).not.toContain(ENTRA);
  });

  it("cannot revoke without an authorization id, or without a credential", async () => {
    const ado = revoker("azure-devops");
    expect(ado.cannotRevoke(target(pat))).toMatch(/only by its authorization id/);
    expect(ado.cannotRevoke(registered)).toBeUndefined();
    expect(revoker("azure-devops", { adoToken: undefined }).unready?.()).toMatch(
      /no Azure DevOps credential.*AZURE_TENANT_ID.*LEAKWARDEN_ADO_TOKEN/,
    );
  });
});

describe("github: POST /credentials/revoke", () => {
  const values = [t.githubPat(), t.make("github-fine-grained-pat"), t.make("github-oauth-token")];

  it("sends the values unauthenticated, batched, with GitHub's media type and API version", async () => {
    const scope = nock("https://api.github.com", {
      reqheaders: GITHUB_HEADERS,
      badheaders: ["authorization"],
    })
      .post("/credentials/revoke", { credentials: values })
      .matchHeader("content-type", "application/json")
      .reply(202, {});
    const result = await revoker("github").revoke(values.map((v) => target(v)));
    expect(result.results).toEqual(values.map(() => ({ kind: "revoked" })));
    expect(scope.isDone()).toBe(true);
  });

  it("takes the API root from LEAKWARDEN_GITHUB_API_URL or the app's GitHub Enterprise URL", async () => {
    const scope = nock("https://ghe.example.com").post("/api/v3/credentials/revoke").reply(202);
    const ghes = createRevokers({}, { githubApiUrl: "https://ghe.example.com/api/v3" }).get(
      "github",
    ) as Revoker;
    expect((await ghes.revoke([target(values[0])])).results[0]?.kind).toBe("revoked");
    const scope2 = nock("http://gh.local").post("/credentials/revoke").reply(202);
    const env = createRevokers({ LEAKWARDEN_GITHUB_API_URL: "http://gh.local" }).get("github") as Revoker;
    expect((await env.revoke([target(values[0])])).results[0]?.kind).toBe("revoked");
    expect(scope.isDone() && scope2.isDone()).toBe(true);
  });

  it.each([
    [422, { message: "Validation Failed" }, {}, "failed"],
    [422, { message: "Endpoint spammed" }, {}, "retry"],
    [403, { message: "Must not be authenticated" }, {}, "failed"],
    [
      403,
      { message: "rate limited" },
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 600) },
      "retry",
    ],
    [429, {}, { "retry-after": "120" }, "retry"],
    [500, {}, {}, "retry"],
    [404, {}, {}, "failed"],
  ] as const)("answer %i %j → %s", async (status, body, headers, kind) => {
    nock("https://api.github.com").post("/credentials/revoke").reply(status, body, headers);
    const result = await revoker("github").revoke(values.map((v) => target(v)));
    expect(result.results.map((r) => r.kind)).toEqual(values.map(() => kind));
    if (headers["x-ratelimit-reset" as keyof typeof headers]) expect(result.pauseMs).toBe(600_000);
    if (status === 429) expect(result.results[0]).toMatchObject({ retryAfterMs: 120_000 });
  });

  it("never repeats a token that the provider echoes back", async () => {
    nock("https://api.github.com")
      .post("/credentials/revoke")
      .reply(422, { message: `Bad credential ${values[0]}` });
    const result = await revoker("github").revoke([target(values[0])]);
    expect(JSON.stringify(result)).not.toContain(values[0]);
    expect(JSON.stringify(result)).toContain("[token]");
  });

  it("a network error is a retry and names no token", async () => {
    nock("https://api.github.com").post("/credentials/revoke").replyWithError({ code: "ECONNRESET" });
    const result = await revoker("github").revoke([target(values[0])]);
    expect(result.results[0]).toMatchObject({ kind: "retry", error: expect.stringMatching(/ECONNRESET/) });
  });
});

describe("github-installation: DELETE /installation/token with the token", () => {
  const ghs = t.make("github-installation-token");

  it("authenticates with the installation token itself", async () => {
    const scope = nock("https://api.github.com", {
      reqheaders: { ...GITHUB_HEADERS, authorization: `Bearer ${ghs}` },
    })
      .delete("/installation/token")
      .reply(204);
    expect((await revoker("github-installation").revoke([target(ghs)])).results).toEqual([
      { kind: "revoked" },
    ]);
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [401, {}, "already-revoked"],
    [404, {}, "already-revoked"],
    [403, {}, "failed"],
    [403, { "retry-after": "60" }, "retry"],
    [429, { "retry-after": "5" }, "retry"],
    [502, {}, "retry"],
  ] as const)("answer %i %j → %s", async (status, headers, kind) => {
    nock("https://api.github.com").delete("/installation/token").reply(status, "", headers);
    expect((await revoker("github-installation").revoke([target(ghs)])).results[0]?.kind).toBe(kind);
  });
});

describe("gitlab: DELETE /api/v4/personal_access_tokens/self with PRIVATE-TOKEN", () => {
  const glpat = t.make("gitlab-pat-routable");

  it("sends the token as PRIVATE-TOKEN to LEAKWARDEN_GITLAB_URL", async () => {
    const scope = nock("https://gitlab.example.com", {
      reqheaders: { "private-token": glpat },
      badheaders: ["authorization"],
    })
      .delete("/api/v4/personal_access_tokens/self")
      .reply(204);
    const gitlab = createRevokers({ LEAKWARDEN_GITLAB_URL: "https://gitlab.example.com" }).get(
      "gitlab",
    ) as Revoker;
    expect((await gitlab.revoke([target(glpat)])).results).toEqual([{ kind: "revoked" }]);
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [401, {}, "already-revoked"],
    [404, {}, "already-revoked"],
    [403, {}, "failed"],
    [429, { "retry-after": "7" }, "retry"],
    [500, {}, "retry"],
  ] as const)("answer %i → %s", async (status, headers, kind) => {
    nock("https://gitlab.com").delete("/api/v4/personal_access_tokens/self").reply(status, "", headers);
    const result = await revoker("gitlab").revoke([target(glpat)]);
    expect(result.results[0]?.kind).toBe(kind);
    if (status === 403) expect(JSON.stringify(result)).toMatch(/User settings > Access tokens/);
  });

  it("a timeout is a retry", async () => {
    nock("https://gitlab.com").delete("/api/v4/personal_access_tokens/self").delay(1000).reply(204);
    expect((await revoker("gitlab", { timeoutMs: 50 }).revoke([target(glpat)])).results[0]?.kind).toBe(
      "retry",
    );
  });
});

describe("slack: auth.revoke with the token", () => {
  const xoxb = t.make("slack-bot-token");

  it("POSTs to {LEAKWARDEN_SLACK_API_URL}/auth.revoke with the token as Bearer", async () => {
    const scope = nock("https://slack.com", {
      reqheaders: { authorization: `Bearer ${xoxb}`, "content-type": "application/x-www-form-urlencoded" },
    })
      .post("/api/auth.revoke", "")
      .reply(200, { ok: true, revoked: true });
    expect((await revoker("slack").revoke([target(xoxb)])).results).toEqual([{ kind: "revoked" }]);
    expect(scope.isDone()).toBe(true);
  });

  it.each([
    [200, { ok: false, error: "invalid_auth" }, {}, "already-revoked"],
    [200, { ok: false, error: "token_revoked" }, {}, "already-revoked"],
    [200, { ok: false, error: "not_authed" }, {}, "failed"],
    [429, { ok: false, error: "ratelimited" }, { "retry-after": "3" }, "retry"],
    [500, {}, {}, "retry"],
  ] as const)("answer %i %j → %s", async (status, body, headers, kind) => {
    nock("https://slack.com").post("/api/auth.revoke").reply(status, body, headers);
    expect((await revoker("slack").revoke([target(xoxb)])).results[0]?.kind).toBe(kind);
  });
});

describe("provider settings", () => {
  it("refuses a base URL that is not http(s)", () => {
    expect(() => createRevokers({ LEAKWARDEN_GITLAB_URL: "gitlab.com" })).toThrow(
      /LEAKWARDEN_GITLAB_URL must be an http\(s\) URL/,
    );
    expect(() => createRevokers({ LEAKWARDEN_HTTP_TIMEOUT_MS: "soon" })).toThrow(
      /LEAKWARDEN_HTTP_TIMEOUT_MS/,
    );
  });
});

describe("every provider treats a timeout as a retry", () => {
  const t2 = tokens(405);
  it.each([
    ["github", "https://api.github.com", "post", "/credentials/revoke", t2.githubPat()],
    [
      "github-installation",
      "https://api.github.com",
      "delete",
      "/installation/token",
      t2.make("github-installation-token"),
    ],
    ["slack", "https://slack.com", "post", "/api/auth.revoke", t2.make("slack-bot-token")],
  ] as const)("%s", async (name, host, method, path, value) => {
    nock(host)[method](path).delay(1000).reply(204);
    const result = await revoker(name, { timeoutMs: 50 }).revoke([target(value)]);
    expect(result.results[0]).toMatchObject({
      kind: "retry",
      error: expect.stringMatching(/no answer within 50 ms/),
    });
    expect(JSON.stringify(result)).not.toContain(value);
  });
});
