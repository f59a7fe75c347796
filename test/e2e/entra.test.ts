// The App in production: `leakwarden serve` gets its Azure DevOps credential from a service principal through
// an HTTPS Microsoft Entra stand-in (self-signed, trusted via NODE_EXTRA_CA_CERTS). The first Entra token
// expires mid-run; the next revocation still succeeds, with a token the App renewed by itself.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Scenario, startScenario } from "../../src/demo/scenario.js";
import { type EntraStandIn, startEntraStandIn } from "../support/entra.js";
import { revocationsOf as adoRevocations, registerAdoPat } from "../support/scenario.js";
import { tokens } from "../support/tokens.js";

const TENANT = "0b1e2a3c-4d5e-4f60-8172-839405a6b7c8";
const CLIENT = "c1d2e3f4-a5b6-4c7d-8e9f-a0b1c2d3e4f5";
const CLIENT_SECRET = randomUUID();
const LIFETIME_SECONDS = 3;
const t = tokens(20261130);
const first = { pat: t.adoPat(), id: randomUUID() };
const second = { pat: t.adoPat(), id: randomUUID() };
let entra: EntraStandIn;
let scenario: Scenario;

beforeAll(async () => {
  entra = await startEntraStandIn(TENANT, LIFETIME_SECONDS);
  scenario = await startScenario({
    adoBearer: (authorization) => entra.accepts(authorization),
    env: {
      LEAKWARDEN_ADO_TOKEN: undefined,
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_CLIENT_SECRET: CLIENT_SECRET,
      AZURE_AUTHORITY_HOST: entra.url,
      NODE_EXTRA_CA_CERTS: entra.caFile,
    },
  });
  for (const token of [first, second]) {
    await registerAdoPat(scenario, token.pat, token.id);
  }
}, 60_000);
afterAll(async () => {
  await scenario?.stop();
  await entra?.close();
});

const revocation = (id: string) => adoRevocations(scenario, id)[0];

async function leak(branch: string, pat: string) {
  const update = await scenario.push(
    branch,
    { "deploy.sh": `export AZURE_DEVOPS_EXT_PAT=${pat}\n` },
    "Deploy",
  );
  expect((await scenario.deliver("push", scenario.pushPayload(branch, update))).status).toBe(200);
}

describe("an App whose Entra token expires mid-run", () => {
  it("says at start-up that it got a token from the service principal", () => {
    expect(scenario.output()).toContain(
      `got a Microsoft Entra token from service principal ${CLIENT} (client secret) of tenant ${TENANT}`,
    );
    expect(entra.issued[0]?.form.get("scope")).toContain("499b84ac-1321-427f-aa17-267ca6975798/.default");
  });

  it("revokes before and after the first token expires, each time with a token valid then", async () => {
    await leak("feature/one", first.pat);
    await scenario.until("the first revocation", () => scenario.ado.revoked.includes(first.id));
    const before = revocation(first.id)?.headers.authorization;
    const expiry = entra.issued.find((i) => `Bearer ${i.token}` === before)?.expiresAt ?? 0;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiry - Date.now()) + 200));
    expect(entra.accepts(before)).toBe(false);

    await leak("feature/two", second.pat);
    await scenario.until("the second revocation", () => scenario.ado.revoked.includes(second.id));
    const after = scenario.ado.requests.filter(
      (r) => r.path === "/contoso/_apis/tokenadmin/revocations" && r.body.includes(second.id),
    );
    // Accepted on the first try: the App renewed its token before calling, not after a 401.
    expect(after).toHaveLength(1);
    expect(after[0]?.headers.authorization).not.toBe(before);
    expect(scenario.output()).not.toContain(CLIENT_SECRET);
  }, 60_000);

  it("confirms each revocation with a live check through the PAT's organisation, and says so on the issue", async () => {
    // In the issue when the check ends before it opens (it usually does), else in a comment of its own.
    await scenario.until("a confirmation on the issue", () =>
      scenario.github.issues
        .flatMap((i) => [i.body, ...i.comments])
        .some((text) => text.includes("revoked (confirmed)")),
    );
    // The other token's check may still be under way: none is left running for long.
    const confirmations = async () =>
      ((await (await fetch(`${scenario.appUrl}/healthz`)).json()) as { queue: { confirmations: unknown } })
        .queue.confirmations as { running: number };
    const deadline = Date.now() + 10_000;
    while ((await confirmations()).running > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await confirmations()).toMatchObject({ running: 0 });
    const checks = scenario.ado.requests.filter((r) => r.path === "/contoso/_apis/connectionData");
    expect(checks.length).toBeGreaterThan(0);
    // The PAT goes only to its own organisation's Azure DevOps, as Basic auth, never to Entra.
    expect(entra.issued.every((i) => ![...i.form.values()].some((v) => v.includes(first.pat)))).toBe(true);
    expect(scenario.output()).not.toContain(first.pat);
  }, 30_000);
});
