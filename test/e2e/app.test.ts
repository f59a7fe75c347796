// The whole app, for real: `leakwarden serve` as a child process, webhooks signed with X-Hub-Signature-256 over
// HTTP, git fetching from a local git http-backend, and stand-ins for the GitHub API and Azure DevOps.

import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Scenario, startScenario } from "../../src/demo/scenario.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { revocationsOf as adoRevocations, registerAdoPat } from "../support/scenario.js";
import { tokens } from "../support/tokens.js";
import { buildZip } from "../support/zip.js";

const t = tokens(20261128);
const pushedPat = t.adoPat();
const loggedPat = t.adoPat();
const pushedId = randomUUID();
const loggedId = randomUUID();
let scenario: Scenario;

const register = (pat: string, authorizationId: string) =>
  registerAdoPat(scenario, pat, authorizationId, ["--name", "deploy"]);

const revocationsOf = (id: string) => adoRevocations(scenario, id);

beforeAll(async () => {
  scenario = await startScenario();
  await register(pushedPat, pushedId);
  await register(loggedPat, loggedId);
}, 60_000);
afterAll(async () => scenario?.stop());

describe("a push that leaks a registered Azure DevOps PAT", () => {
  let payload: Record<string, unknown>;
  let delivery: string;

  it("refuses a wrongly signed delivery", async () => {
    const update = await scenario.push(
      "feature/deploy",
      { "deploy.sh": `export AZURE_DEVOPS_EXT_PAT=${pushedPat}\n` },
      "Add deploy",
    );
    payload = scenario.pushPayload("feature/deploy", update);
    const forged = await scenario.deliver("push", payload, { secret: "not-the-secret" });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    const health = await (await fetch(`${scenario.appUrl}/healthz`)).json();
    expect(health).toMatchObject({
      status: "ok",
      database: "ok",
      engine: "sqlite",
      schemaVersion: MIGRATIONS.length,
      queue: {
        scans: { pending: 0, running: 0, oldestPendingAgeSeconds: null },
        revocations: { pending: 0, running: 0, waiting: [] },
        reports: { pending: 0, running: 0 },
      },
    });
  });

  it("fetches it, revokes the PAT once by its authorizationId, and opens one issue", async () => {
    const accepted = await scenario.deliver("push", payload);
    expect(accepted.status).toBe(200);
    delivery = accepted.delivery;
    const issue = await scenario.until("the issue", () => scenario.github.issues[0]);
    await scenario.until("the revocation", () => revocationsOf(pushedId).length > 0);
    expect(revocationsOf(pushedId)).toHaveLength(1);
    expect(JSON.parse(revocationsOf(pushedId)[0]?.body ?? "")).toEqual([{ authorizationId: pushedId }]);
    expect(revocationsOf(pushedId)[0]?.headers.authorization).toBe("Bearer entra-access-token-for-the-demo");
    expect(issue.labels).toEqual(["security", "leaked-credential"]);
    expect(issue.body).toContain(`\`…${pushedPat.slice(-4)}\``);
    expect(issue.body).toContain("@dana-dev");
    expect(issue.body).not.toContain(pushedPat);
    // git fetched over HTTP with the installation token, never in a URL.
    expect(scenario.github.gitRequests.some((r) => r.url.startsWith("/acme/app.git/") && r.authorized)).toBe(
      true,
    );
    expect(scenario.github.gitRequests.every((r) => !r.url.includes(scenario.github.installationToken))).toBe(
      true,
    );
  });

  it("changes nothing when the same webhook is delivered again, or delivered anew", async () => {
    expect((await scenario.deliver("push", payload, { delivery })).status).toBe(200);
    expect((await scenario.deliver("push", payload)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(scenario.github.issues).toHaveLength(1);
    expect(revocationsOf(pushedId)).toHaveLength(1);
  });
});

describe("a workflow run whose log holds a PAT in an Authorization: Basic header", () => {
  it("is caught, revoked and reported", async () => {
    const header = Buffer.from(`:${loggedPat}`).toString("base64");
    scenario.github.runLogs.set(
      77,
      buildZip([
        { name: "0_build.txt", data: "2026-11-28T10:00:00.0000000Z ##[group]Run ./deploy.sh\n" },
        {
          name: "build/2_Deploy.txt",
          data: `2026-11-28T10:00:01.0000000Z + set -x\n2026-11-28T10:00:02.0000000Z + curl -H 'Authorization: Basic ${header}' https://dev.azure.com/contoso/_apis/projects\n`,
        },
      ]),
    );
    expect((await scenario.deliver("workflow_run", scenario.workflowRunPayload(77))).status).toBe(200);
    const issue = await scenario.until("the run's issue", () => scenario.github.issues[1]);
    await scenario.until("the revocation", () => revocationsOf(loggedId).length > 0);
    expect(revocationsOf(loggedId)).toHaveLength(1);
    expect(issue.title).toBe("Leaked Azure DevOps PAT in workflow run CI #77");
    expect(issue.body).toContain("log build/2\\_Deploy.txt:2");
    expect(issue.body).toContain(`\`…${loggedPat.slice(-4)}\``);
    expect(issue.body).not.toContain(loggedPat);
    expect(issue.body).not.toContain(header);
  });
});

describe("serve's log", () => {
  it("is pino JSON lines with a timestamp, and says how long each push spent in each stage", () => {
    const lines = scenario
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { time: number; msg: string });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.time).toBeGreaterThan(Date.parse("2026-01-01"));
    expect(lines.map((l) => l.msg).join("\n")).toMatch(
      /push:acme\/app:refs\/heads\/feature\/deploy:\w+: stage times from the webhook: scan [\d.]+ s, revoke [\d.]+ s, report [\d.]+ s, total [\d.]+ s; revoked [\d.]+ s after the webhook/,
    );
  });
});

describe("alerts", () => {
  it("reach the signed webhook for the breach and the revocation, without a token's value", async () => {
    const bodies = await scenario.until("the alerts", () => {
      const got = scenario.alerts.requests.map((r) => JSON.parse(r.body) as { type: string });
      return got.some((e) => e.type === "breach") && got.some((e) => e.type === "revocation") && got;
    });
    expect(bodies.map((b) => b.type)).toContain("breach");
    const secret = scenario.env.LEAKWARDEN_ALERT_WEBHOOK_SECRET as string;
    for (const r of scenario.alerts.requests) {
      expect(r.headers["x-leakwarden-signature-256"]).toBe(
        `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`,
      );
      for (const pat of [pushedPat, loggedPat]) expect(r.body).not.toContain(pat);
    }
    const breach = bodies.find((b) => b.type === "breach") as unknown as { url: string; repository: string };
    expect(breach.url).toBe(`${scenario.appUrl}/console/findings?status=open&repository=acme%2Fapp`);
  });
});

describe("the console under serve", () => {
  it("is mounted at /console and signs in through the App's OAuth client on GHE_HOST", async () => {
    const home = await fetch(`${scenario.appUrl}/console/`, { redirect: "manual" });
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/console/login");
    const start = await fetch(`${scenario.appUrl}/console/oauth/start`, { redirect: "manual" });
    const authorize = new URL(start.headers.get("location") ?? "");
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${scenario.github.url}/login/oauth/authorize`);
    expect(authorize.searchParams.get("client_id")).toBe("Iv1.leakwarden-demo");
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${scenario.appUrl}/console/oauth/callback`);
    expect(start.headers.getSetCookie().join(";")).toMatch(/leakwarden_oauth_state=[^;]+;.*HttpOnly/);
  });
});

describe("secrets stay in the process", () => {
  it("appear in no server log line and no database file", () => {
    const output = scenario.output();
    expect(output.length).toBeGreaterThan(0);
    for (const secret of [pushedPat, loggedPat, scenario.github.installationToken])
      expect(output).not.toContain(secret);
    for (const file of ["leakwarden.db", "leakwarden.db-wal"]) {
      let bytes = Buffer.alloc(0);
      try {
        bytes = readFileSync(join(scenario.dir, file));
      } catch {}
      for (const secret of [pushedPat, loggedPat]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
  });
});
