// Entra tokens for Azure DevOps through @azure/identity: cached, renewed before they expire, one fresh token and
// one retry after a 401, Entra outages and refusals told apart, and no credential in any error.
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADO_SCOPE, adoCredentialFrom, StaticAdoCredential } from "../../src/revoke/ado-credential.js";
import { createRevokers } from "../../src/revoke/providers.js";
import type { Revoker } from "../../src/revoke/types.js";

const AUTHORITY = "https://login.entra.test";
const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const CLIENT_SECRET = "client-secret-that-must-never-show";
const AUTH_ID = "7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
const ADO = "https://vssps.dev.azure.com";
const ENV = {
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: CLIENT,
  AZURE_CLIENT_SECRET: CLIENT_SECRET,
  AZURE_AUTHORITY_HOST: AUTHORITY,
};
const target = {
  secretHash: `sha256:${"a".repeat(64)}`,
  preview: "…",
  org: "contoso",
  authorizationId: AUTH_ID,
};

/** Entra's OpenID metadata and token endpoint; each token request gets the next of `issued`. */
function entra(issued: { token: string; expiresIn: number; status?: number }[]) {
  const requests: string[] = [];
  nock(AUTHORITY)
    .persist()
    .get(`/${TENANT}/v2.0/.well-known/openid-configuration`)
    .query(true)
    .reply(200, {
      token_endpoint: `${AUTHORITY}/${TENANT}/oauth2/v2.0/token`,
      authorization_endpoint: `${AUTHORITY}/${TENANT}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${AUTHORITY}/${TENANT}/oauth2/v2.0/logout`,
      issuer: `${AUTHORITY}/${TENANT}/v2.0`,
      jwks_uri: `${AUTHORITY}/${TENANT}/discovery/v2.0/keys`,
    });
  let next = 0;
  nock(AUTHORITY)
    .persist()
    .post(`/${TENANT}/oauth2/v2.0/token`)
    .query(true)
    .reply((_uri, body) => {
      requests.push(String(body));
      const answer = issued[Math.min(next++, issued.length - 1)] as (typeof issued)[number];
      if (answer.status && answer.status >= 500)
        return [answer.status, { error: "temporarily_unavailable", error_description: "AADSTS90033" }];
      if (answer.status && answer.status !== 200)
        return [
          answer.status,
          { error: "invalid_client", error_description: `AADSTS7000215: Invalid client secret provided.` },
        ];
      return [200, { token_type: "Bearer", expires_in: answer.expiresIn, access_token: answer.token }];
    });
  return requests;
}

function adoRevoker(env: NodeJS.ProcessEnv = ENV): Revoker {
  return createRevokers(env, { timeoutMs: 2000 }).get("azure-devops") as Revoker;
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("Entra tokens for Azure DevOps", () => {
  it("asks Entra for the Azure DevOps scope once, and reuses the token while it has long to live", async () => {
    const requests = entra([{ token: "entra-1", expiresIn: 3600 }]);
    const ado = nock(ADO, { reqheaders: { authorization: "Bearer entra-1" } })
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .times(2)
      .reply(204);
    const revoker = adoRevoker();
    expect((await revoker.revoke([target])).results).toEqual([{ kind: "revoked" }]);
    expect((await revoker.revoke([target])).results).toEqual([{ kind: "revoked" }]);
    expect(ado.isDone()).toBe(true);
    expect(requests).toHaveLength(1);
    const form = new URLSearchParams(requests[0]);
    expect(form.get("scope")).toContain(ADO_SCOPE);
    expect(form.get("client_id")).toBe(CLIENT);
    expect(form.get("grant_type")).toBe("client_credentials");
  });

  it("renews a token that expires within five minutes before calling with it", async () => {
    const requests = entra([
      { token: "entra-1", expiresIn: 120 },
      { token: "entra-2", expiresIn: 120 },
    ]);
    const first = nock(ADO, { reqheaders: { authorization: "Bearer entra-1" } })
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(204);
    const second = nock(ADO, { reqheaders: { authorization: "Bearer entra-2" } })
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(204);
    const revoker = adoRevoker();
    await revoker.revoke([target]);
    expect((await revoker.revoke([target])).results).toEqual([{ kind: "revoked" }]);
    expect(first.isDone() && second.isDone()).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it("a 401 gets one fresh token and one retry", async () => {
    const requests = entra([
      { token: "entra-stale", expiresIn: 3600 },
      { token: "entra-fresh", expiresIn: 3600 },
    ]);
    const refused = nock(ADO, { reqheaders: { authorization: "Bearer entra-stale" } })
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(401, { message: "TF400813: not authorized" });
    const accepted = nock(ADO, { reqheaders: { authorization: "Bearer entra-fresh" } })
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(204);
    const result = await adoRevoker().revoke([target]);
    expect(result.results).toEqual([{ kind: "revoked" }]);
    expect(refused.isDone() && accepted.isDone()).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it("a second 401 is a failure that names the credential, after exactly two calls", async () => {
    entra([
      { token: "entra-1", expiresIn: 3600 },
      { token: "entra-2", expiresIn: 3600 },
      { token: "entra-3", expiresIn: 3600 },
    ]);
    const refused = nock(ADO)
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .times(2)
      .reply(401, { message: "TF400813: not authorized" });
    const result = await adoRevoker().revoke([target]);
    expect(result.results[0]).toMatchObject({
      kind: "failed",
      error: expect.stringMatching(new RegExp(`service principal ${CLIENT}.*was refused`)),
    });
    expect(refused.isDone()).toBe(true);
    expect(nock.pendingMocks()).not.toContain(expect.stringContaining("tokenadmin"));
  });

  it("throttling and outages of Azure DevOps are retries, and a static token is sent as it is", async () => {
    nock(ADO)
      .post("/contoso/_apis/tokenadmin/revocations")
      .query(true)
      .reply(429, "", { "Retry-After": "7" });
    nock(ADO).post("/contoso/_apis/tokenadmin/revocations").query(true).reply(503);
    const revoker = adoRevoker({ LEAKWARDEN_ADO_TOKEN: "static-entra" });
    expect((await revoker.revoke([target])).results[0]).toMatchObject({ kind: "retry", retryAfterMs: 7000 });
    expect((await revoker.revoke([target])).results[0]).toMatchObject({ kind: "retry" });
  });

  it("an Entra outage is a retry; a refused client secret is a failure; neither shows the secret", async () => {
    entra([{ token: "", expiresIn: 0, status: 503 }]);
    const outage = await adoRevoker().revoke([target]);
    expect(outage.results[0]).toMatchObject({
      kind: "retry",
      error: expect.stringMatching(/no Microsoft Entra token/),
    });
    nock.cleanAll();
    entra([{ token: "", expiresIn: 0, status: 401 }]);
    const refused = await adoRevoker().revoke([target]);
    expect(refused.results[0]).toMatchObject({
      kind: "failed",
      error: expect.stringMatching(/AADSTS7000215/),
    });
    expect(JSON.stringify([outage, refused])).not.toContain(CLIENT_SECRET);
  });
});

describe("choosing the credential from the environment", () => {
  it("prefers a service principal, then managed identity, then a static token with a warning", () => {
    expect(adoCredentialFrom(ENV)).toMatchObject({
      renewable: true,
      description: expect.stringMatching(/client secret/),
    });
    expect(
      adoCredentialFrom({
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CLIENT,
        AZURE_FEDERATED_TOKEN_FILE: "/var/run/token",
      }),
    ).toMatchObject({ description: expect.stringMatching(/workload identity federation/) });
    expect(adoCredentialFrom({ LEAKWARDEN_ADO_MANAGED_IDENTITY: "true" })).toMatchObject({
      description: "the system-assigned managed identity",
    });
    const fixed = adoCredentialFrom({ LEAKWARDEN_ADO_TOKEN: "static" });
    expect(fixed).toBeInstanceOf(StaticAdoCredential);
    expect((fixed as StaticAdoCredential).warning).toMatch(/expires about an hour after/);
    expect(adoCredentialFrom({})).toBeUndefined();
  });

  it("a half-set service principal is a clear problem, not a silent fallback", () => {
    expect(adoCredentialFrom({ AZURE_CLIENT_SECRET: "x", LEAKWARDEN_ADO_TOKEN: "static" })).toEqual({
      problem: expect.stringMatching(/AZURE_TENANT_ID and AZURE_CLIENT_ID must be set/),
    });
    expect(adoRevoker({ AZURE_CLIENT_SECRET: "x" }).unready?.()).toMatch(/credential is incomplete/);
  });
});
