// The console in headless Chromium: GitHub sign-in through a stand-in, a non-member refused, filters, a
// resolution audited with the login, a dead revocation retried against a provider stand-in, a forged CSRF
// token refused, axe-core on every page, and no page or export holding a planted token's value.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubOAuth } from "../../src/console/github-oauth.js";
import { ConsoleServer } from "../../src/console/server.js";
import { Registry } from "../../src/registry/registry.js";
import { actOnFindings } from "../../src/revoke/act.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { RevocationWorker } from "../../src/revoke/worker.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { openStore, type Store } from "../../src/store/index.js";
import { AUTH_ID, scanText } from "../revoke/harness.js";
import { ROOT, tempDir } from "../support/cli.js";
import { type OAuthStandIn, startOAuthStandIn } from "../support/github-oauth.js";
import { type StandIn, startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts", "console");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

describe.skipIf(!existsSync(CHROMIUM))("the console in Chromium", () => {
  const dir = tempDir("leakwarden-console-");
  const gen = tokens(20261130);
  const adoPat = gen.adoPat();
  const githubPats = [gen.githubPat(), gen.githubPat(), gen.githubPat()];
  const planted = [adoPat, ...githubPats];
  let store: Store;
  let oauth: OAuthStandIn;
  let ado: StandIn;
  let adoAnswer = 500;
  let worker: RevocationWorker;
  let http: Server;
  let base = "";
  let browser: Browser;
  let page: Page;
  const seen: string[] = [];

  /** Visits a page, keeps its text for the leak scan, and runs axe-core on it. */
  async function check(name: string): Promise<void> {
    seen.push(await page.content());
    // Evaluated through the DevTools protocol: the page's CSP (no inline script) stays in force.
    await page.evaluate(AXE);
    const violations = (await page.evaluate(async () => {
      const result = await (
        globalThis as unknown as {
          axe: { run: () => Promise<{ violations: { id: string; impact: string }[] }> };
        }
      ).axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
    })) as { id: string; impact: string }[];
    expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    store = await openStore({ path: join(dir.path, "console.db"), env: {}, actor: "test" });
    oauth = await startOAuthStandIn();
    oauth.teams.set("acme/security", ["alice"]);
    oauth.owners.set("acme", ["olivia"]);
    ado = await startStandIn(() => ({
      status: adoAnswer,
      body: adoAnswer === 204 ? "" : '{"message":"boom"}',
    }));
    const revokers = createRevokers({}, { adoVsspsUrl: ado.url, adoToken: "entra-test", timeoutMs: 2000 });
    const rules = loadRules([]);
    await new Registry(store).add(new Secret(adoPat), {
      org: "contoso",
      authorizationId: AUTH_ID,
      owner: "bob",
      name: "build-agent",
    });
    await actOnFindings(store, revokers, rules, scanText(`ADO=${adoPat}\n`, "deploy/settings.env"), {
      source: "acme/payments",
      revoke: true,
      maxAttempts: 1,
    });
    await actOnFindings(
      store,
      revokers,
      rules,
      scanText(githubPats.map((p) => `t=${p}`).join("\n"), "ci.yml"),
      {
        source: "acme/website",
        record: true,
      },
    );
    await store.validations.save(
      secretHash(githubPats[2] as string),
      "github",
      { status: "inactive", detail: "Bad credentials" },
      3600_000,
    );
    worker = new RevocationWorker({ store, revokers, pollMs: 50, retry: { baseMs: 10 } });
    await worker.drain({ maxWaitMs: 2000 });
    expect(await store.jobs.list({ state: "dead" })).toHaveLength(1);
    worker.start();

    const consoleServer = new ConsoleServer({
      store,
      signIn: {
        kind: "github",
        oauth: new GitHubOAuth({
          clientId: oauth.clientId,
          clientSecret: oauth.clientSecret,
          webUrl: oauth.url,
          apiUrl: `${oauth.url}/api/v3`,
          teams: [{ org: "acme", slug: "security" }],
          installedOrgs: async () => ["acme"],
        }),
      },
      revokers,
      rules,
      sessionKey: randomBytes(32),
      secureCookies: false,
      webUrl: "https://github.example",
      revocationsQueued: () => worker.notify(),
    });
    http = createServer((req, res) => {
      if (!consoleServer.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/console`;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    page = await (await browser.newContext()).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
    await worker?.stop();
    await oauth?.close();
    await ado?.close();
    await store?.close();
    dir.remove();
  });

  it("refuses someone who is neither in a console team nor an owner, and audits it", async () => {
    oauth.signInAs("mallory");
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await expect.poll(() => page.textContent("h1")).toBe("Access denied");
    expect(await page.textContent("main")).toContain("mallory");
    const denied = await store.audit.list({ action: "console.denied" });
    expect(denied.map((e) => e.actor)).toEqual(["mallory"]);
    await page.goto(`${base}/findings`);
    expect(page.url()).toBe(`${base}/login`);
  });

  it("signs a security team member in with GitHub and shows the overview", async () => {
    oauth.signInAs("alice");
    await page.goto(`${base}/login`);
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await page.waitForURL(`${base}/`);
    expect(await page.textContent("h1")).toBe("Overview");
    expect(await page.textContent("header")).toContain("alice");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "leakwarden_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/console" });
    expect(session?.expires).toBeGreaterThan(Date.now() / 1000);
    expect(await page.textContent("main")).toContain("acme/website");
    expect(await page.locator("svg.chart rect.bar").count()).toBe(12);
    await check("overview");
  });

  it("filters findings on the server and exports the filtered set without a value", async () => {
    await page.goto(`${base}/findings`);
    expect(await page.textContent("#total")).toBe("4");
    await page.getByLabel("Repository").fill("acme/website");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/repository=acme%2Fwebsite/);
    expect(await page.textContent("#total")).toBe("3");
    expect(await page.locator("table.findings tbody tr").count()).toBe(3);
    await page.getByLabel("Live check").selectOption("inactive");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/validity=inactive/);
    expect(await page.textContent("#total")).toBe("1");
    expect(await page.textContent("table.findings tbody")).toContain(`…${githubPats[2]?.slice(-4)}`);
    await page.getByLabel("Live check").selectOption("");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL((url) => !url.search.includes("validity=inactive"));
    await check("findings");
    const csv = await page.request.get(`${base}/findings.csv?repository=acme%2Fwebsite`);
    const json = await page.request.get(`${base}/findings.json?repository=acme%2Fwebsite`);
    const rows = (await json.json()) as { source: string; secretHash: string }[];
    expect(rows.map((r) => r.source)).toEqual(["acme/website", "acme/website", "acme/website"]);
    seen.push(await csv.text(), JSON.stringify(rows));
    expect((await csv.text()).trim().split("\r\n")).toHaveLength(4);
  });

  it("answers 'was this token ever leaked?' from a hash computed in the browser", async () => {
    const sent: string[] = [];
    page.on("request", (r) => sent.push(`${r.url()} ${r.postData() ?? ""}`));
    await page.goto(`${base}/findings`);
    await page.getByLabel("Token").fill(githubPats[1] as string);
    await page.getByRole("button", { name: "Check" }).click();
    await page.waitForURL(/hash=sha256/);
    expect(await page.textContent("[role=status]")).toContain("Yes: this token was found 1 time");
    expect(sent.some((s) => s.includes("hash=sha256%3A"))).toBe(true);
    for (const value of planted) expect(sent.join("\n")).not.toContain(value);
    seen.push(await page.content());
  });

  it("resolves a finding with a note, and its audit trail names the signed-in login", async () => {
    await page.goto(`${base}/findings?repository=acme%2Fwebsite&sort=oldest`);
    await page.locator("table.findings tbody tr a").first().click();
    await page.waitForURL(/\/findings\/\d+$/);
    await check("finding");
    await page.getByLabel("Resolve as").selectOption("false-positive");
    await page.getByLabel("Note").fill("a fixture in a test repository");
    await page.getByRole("button", { name: "Resolve" }).click();
    await page.waitForLoadState();
    expect(await page.textContent("dl.facts")).toContain("false-positive: a fixture in a test repository");
    const trail = await page.locator("table.audit tbody tr").allTextContents();
    expect(trail.some((row) => row.includes("alice") && row.includes("finding.resolve"))).toBe(true);
  });

  it("retries a dead revocation against the provider stand-in", async () => {
    const id = (await store.findings.list({ provider: "azure-devops" }))[0]?.id;
    await page.goto(`${base}/findings/${id}`);
    expect(await page.textContent("dl.facts")).toContain("failed via azure-devops");
    const calls = ado.requests.length;
    adoAnswer = 204;
    await page.getByRole("button", { name: "Revoke now" }).click();
    await expect
      .poll(async () => {
        await page.reload();
        return page.textContent("dl.facts");
      })
      .toContain("revoked via azure-devops");
    expect(ado.requests.length).toBe(calls + 1);
    expect((await store.audit.list({ action: "revoke.rearm" })).map((e) => e.actor)).toEqual(["alice"]);
    seen.push(await page.content());
  });

  it("refuses a forged CSRF token and changes nothing", async () => {
    const finding = (await store.findings.list({ status: "open" }))[0];
    await page.goto(`${base}/findings/${finding?.id}`);
    await page.locator("form[action$='/resolve'] input[name=csrf]").evaluate((input) => {
      (input as unknown as { value: string }).value = "forged";
    });
    await page.getByLabel("Note").fill("forged");
    await page.getByRole("button", { name: "Resolve" }).click();
    await page.waitForLoadState();
    expect(await page.textContent("main")).toContain("CSRF token is wrong");
    expect((await store.findings.byId(finding?.id as number))?.status).toBe("open");
    expect(await store.audit.list({ action: "console.csrf-refused" })).toHaveLength(1);
  });

  it("shows the registry with hygiene flags, and the audit log", async () => {
    await page.goto(`${base}/registry`);
    expect(await page.textContent("main")).toContain("build-agent");
    await check("registry");
    await page.goto(`${base}/audit?action=finding.`);
    expect(await page.locator("table.audit tbody tr").count()).toBe(1);
    await check("audit");
  });

  it("signs out, and lets in an owner of an organisation where the App is installed", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/login`);
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/login`);
    oauth.signInAs("olivia");
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await page.waitForURL(`${base}/`);
    expect(await page.textContent("header")).toContain("olivia");
    const signins = await store.audit.list({ action: "console.signin" });
    expect(signins.map((e) => [e.actor, e.detail?.via])).toEqual([
      ["alice", "acme/security"],
      ["olivia", "owner of acme"],
    ]);
    expect((await store.audit.list({ action: "console.signout" })).map((e) => e.actor)).toEqual(["alice"]);
  });

  it("never shows a planted token's value", () => {
    expect(seen.length).toBeGreaterThan(6);
    for (const text of seen) for (const value of planted) expect(text).not.toContain(value);
  });
});

it.skipIf(existsSync(CHROMIUM))(`console browser tests need Chromium at ${CHROMIUM}`, () => {});
