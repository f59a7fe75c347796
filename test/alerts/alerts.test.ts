// Alerts: signed like GitHub webhooks, delivered through the durable queue with retries, redacted, and
// decoupled from revocation (an endpoint that hangs or fails delays only its own job).
import { createHmac, timingSafeEqual } from "node:crypto";
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { alertConfigFrom } from "../../src/alerts/config.js";
import { revocationEvent } from "../../src/alerts/events.js";
import { ALERT_KIND, enqueueAlerts } from "../../src/alerts/queue.js";
import { render, SIGNATURE_HEADER } from "../../src/alerts/render.js";
import { AlertWorker } from "../../src/alerts/worker.js";
import { Registry } from "../../src/registry/registry.js";
import { Secret } from "../../src/scan/secret.js";
import { openStore } from "../../src/store/index.js";
import { AUTH_ID, harness, scanText } from "../revoke/harness.js";
import { tempDir } from "../support/cli.js";
import { startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir("leakwarden-alerts-");
afterAll(dir.remove);
afterEach(() => nock.cleanAll());

const SECRET = "webhook-signing-secret-for-tests";

/** A registered PAT leaked and revoked (or failed) through the real worker; alerts queued as the app does. */
async function revokedLeak(adoStatus: number, alertUrl: string) {
  const h = await harness(dir.path, { maxAttempts: 1 });
  const pat = tokens(99).adoPat();
  await new Registry(h.store).add(new Secret(pat), {
    org: "contoso",
    authorizationId: AUTH_ID,
    owner: "bob",
  });
  const config = alertConfigFrom({
    LEAKWARDEN_ALERT_WEBHOOK_URL: alertUrl,
    LEAKWARDEN_ALERT_WEBHOOK_SECRET: SECRET,
    LEAKWARDEN_ALERT_SLACK_URL: `${alertUrl}/slack`,
    LEAKWARDEN_CONSOLE_URL: "https://leakwarden.example/console",
  });
  h.worker.onOutcome((outcome) => enqueueAlerts(h.store, config, [revocationEvent(outcome)]));
  await h.act(scanText(`PAT=${pat}\n`), { revoke: true, source: "acme/api" });
  nock("https://vssps.dev.azure.com")
    .post(/tokenadmin/)
    .query(true)
    .reply(adoStatus, {});
  await h.worker.drain({ maxWaitMs: 0 });
  // Alerts are delivered on the same database by their own stage, on the real clock.
  const store = await openStore({ path: h.path, env: {} });
  return { h, pat, config, store };
}

describe("alerts", () => {
  it("are signed with HMAC-SHA256 in X-Leakwarden-Signature-256, redacted, with a link to the finding", async () => {
    const receiver = await startStandIn(() => ({ status: 204 }));
    nock.enableNetConnect("127.0.0.1");
    const { h, pat, config, store } = await revokedLeak(204, receiver.url);
    expect(h.outcomes.map((o) => o.outcome)).toEqual(["revoked"]);
    await new AlertWorker({ store, config }).drain(5000);
    expect(receiver.requests).toHaveLength(2);
    const hook = receiver.requests.find((r) => r.url === "/") as (typeof receiver.requests)[number];
    const expected = `sha256=${createHmac("sha256", SECRET).update(hook.body).digest("hex")}`;
    const given = String(hook.headers[SIGNATURE_HEADER]);
    expect(timingSafeEqual(Buffer.from(given), Buffer.from(expected))).toBe(true);
    const event = JSON.parse(hook.body);
    expect(event).toMatchObject({ type: "revocation", outcome: "revoked", provider: "azure-devops" });
    expect(event.url).toBe(`https://leakwarden.example/console/findings/${h.outcomes[0]?.findingIds[0]}`);
    expect(event.preview).toMatch(/…/);
    const slack = receiver.requests.find((r) => r.url === "/slack");
    expect(JSON.parse(slack?.body ?? "{}").text).toMatch(/^leakwarden: revoked .* through azure-devops/);
    expect(slack?.headers[SIGNATURE_HEADER]).toBeUndefined();
    for (const r of receiver.requests) expect(r.body).not.toContain(pat);
    expect(await h.store.jobs.list({ kind: ALERT_KIND, state: "done" })).toHaveLength(2);
    await store.close();
    await receiver.close();
  });

  it("never hold up a revocation: a hanging endpoint delays only its own job, which is retried", async () => {
    const receiver = await startStandIn(async (_request, index) => {
      if (index === 0) await new Promise(() => {});
      return { status: index === 1 ? 503 : 204 };
    });
    nock.enableNetConnect("127.0.0.1");
    const { h, config, store } = await revokedLeak(500, receiver.url);
    // The revocation finished (failed for good) before any alert was sent: alerts are only rows in the queue.
    expect(h.outcomes.map((o) => o.outcome)).toEqual(["failed"]);
    expect(receiver.requests).toHaveLength(0);
    const only = { ...config, urls: { webhook: config.urls.webhook } };
    const alerts = new AlertWorker({ store, config: only, timeoutMs: 200, retry: { baseMs: 20, maxMs: 40 } });
    await alerts.drain(10_000);
    const job = (await store.jobs.list({ kind: ALERT_KIND })).find((j) => j.queue === "webhook");
    // Timed out, then 503, then delivered.
    expect(job).toMatchObject({ state: "done", attempts: 3 });
    expect(receiver.requests).toHaveLength(3);
    expect(JSON.parse(receiver.requests.at(-1)?.body ?? "{}")).toMatchObject({ outcome: "failed" });
    await store.close();
    await receiver.close();
  });

  it("give up after the last attempt and say so in the audit log, without the URL", async () => {
    const receiver = await startStandIn(() => ({ status: 500 }));
    nock.enableNetConnect("127.0.0.1");
    const { config, store } = await revokedLeak(204, receiver.url);
    const only = { ...config, urls: { slack: config.urls.slack } };
    const alerts = new AlertWorker({ store, config: only, retry: { baseMs: 5, maxMs: 10 } });
    await alerts.drain(10_000);
    const dead = (await store.audit.list({ action: "alert.dead" })).find((e) =>
      String(e.detail?.key).startsWith("alert:slack:"),
    );
    expect(dead?.detail).toMatchObject({ error: "HTTP 500", attempts: 8 });
    expect(receiver.requests.filter((r) => r.url === "/slack")).toHaveLength(8);
    // The webhook's job died too, its URL being no longer configured; neither audit entry holds a URL.
    expect(await store.audit.list({ action: "alert.dead" })).toHaveLength(2);
    expect(JSON.stringify(await store.audit.list())).not.toContain(receiver.url);
    await store.close();
    await receiver.close();
  });

  it("that come together are queued together: one job per event and destination, none twice", async () => {
    const store = await openStore({ path: join(dir.path, "together.db"), env: {} });
    const config = alertConfigFrom({
      LEAKWARDEN_ALERT_WEBHOOK_URL: "https://alerts.example/hook",
      LEAKWARDEN_ALERT_WEBHOOK_SECRET: SECRET,
      LEAKWARDEN_ALERT_SLACK_URL: "https://hooks.slack.example/services/T/B/x",
    });
    const events = [1, 2, 3].map((jobId) =>
      revocationEvent({
        jobId,
        secretHash: `sha256:${String(jobId).repeat(64)}`,
        preview: `AZDO…000${jobId}`,
        provider: "azure-devops",
        outcome: "revoked",
        at: "2026-12-02T10:00:00.000Z",
        attempts: 1,
        findingIds: [jobId],
        tokenId: null,
      }),
    );
    const ids = await enqueueAlerts(store, config, events);
    expect(ids).toHaveLength(6);
    const jobs = await store.jobs.list({ kind: ALERT_KIND });
    expect(jobs.map((j) => j.key).sort()).toEqual(
      events.flatMap((e) => [`alert:slack:${e.id}`, `alert:webhook:${e.id}`]).sort(),
    );
    // The same events heard again queue nothing.
    expect(await enqueueAlerts(store, config, events)).toEqual([]);
    expect(await store.jobs.list({ kind: ALERT_KIND })).toHaveLength(6);
    await store.close();
  });

  it("format a Teams Adaptive Card and refuse a webhook without its secret or over plain http", () => {
    const card = JSON.parse(
      render(
        "teams",
        {
          type: "breach",
          id: "b1",
          at: "2026-11-30T10:00:00.000Z",
          repository: "acme/api",
          issueUrl: "https://github.example/acme/api/issues/3",
          tokens: [{ preview: "ghp_…abcd", description: "GitHub PAT" }],
        },
        "https://leakwarden.example/console",
      ),
    );
    const content = card.attachments[0].content;
    expect(content.type).toBe("AdaptiveCard");
    expect(content.body[0].text).toContain("1 leaked token in acme/api: ghp_…abcd (GitHub PAT)");
    expect(content.actions[0].url).toBe(
      "https://leakwarden.example/console/findings?status=open&repository=acme%2Fapi",
    );
    expect(() => alertConfigFrom({ LEAKWARDEN_ALERT_WEBHOOK_URL: "https://hooks.example/x" })).toThrow(
      /needs LEAKWARDEN_ALERT_WEBHOOK_SECRET/,
    );
    expect(() => alertConfigFrom({ LEAKWARDEN_ALERT_SLACK_URL: "http://hooks.example/x" })).toThrow(/https/);
  });
});
