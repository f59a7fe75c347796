// `leakwarden serve` facing hostile webhook requests: oversized, unsigned, signed with an old secret, or signed
// but malformed. Each gets a bare status, memory stays flat, and no payload reaches the log, even at trace level.
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Scenario, startScenario } from "../../src/demo/scenario.js";
import { tokens } from "../support/tokens.js";

const t = tokens(8_2026);
let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario({ env: { LOG_LEVEL: "trace" } });
}, 60_000);
afterAll(async () => scenario?.stop());

const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;

/** POSTs `total` bytes of `x` in 1 MiB chunks; resolves with the status, however early the server answers. */
function postHuge(total: number, declareLength: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${scenario.appUrl}/api/github/webhooks`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "huge",
        "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
        ...(declareLength ? { "content-length": String(total) } : {}),
      },
    });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(1024 * 1024, "x");
    let sent = 0;
    const pump = () => {
      while (!answered && !req.destroyed && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered && !req.destroyed) req.end();
    };
    pump();
  });
}

describe("webhook requests leakwarden serve refuses", () => {
  it("answers 413 to an oversized unsigned POST, declared or streamed, without buffering it", async () => {
    const before = rssOf(scenario.serverPid);
    for (const declared of [true, false]) {
      const answer = await postHuge(200 * 1024 * 1024, declared);
      expect(answer).toEqual({ status: 413, body: "payload too large\n" });
    }
    expect(rssOf(scenario.serverPid) - before).toBeLessThan(60 * 1024 * 1024);
    const health = await fetch(`${scenario.appUrl}/healthz`);
    expect(health.status).toBe(200);
  }, 60_000);

  it("answers 401 to a push signed with an old secret, and never logs its payload", async () => {
    const leaked = t.adoPat();
    const update = await scenario.push(
      "rotation",
      { "notes.txt": "nothing here\n" },
      `deploy with ${leaked}`,
    );
    const payload = {
      ...scenario.pushPayload("rotation", update),
      head_commit: { id: update.after, message: `deploy with ${leaked}` },
      commits: [{ id: update.after, message: `deploy with ${leaked}` }],
    };
    const forged = await scenario.deliver("push", payload, { secret: "the-secret-before-rotation" });
    expect(forged.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(scenario.output()).not.toContain(leaked);
    expect(scenario.output()).toContain("signature does not match WEBHOOK_SECRET");
  });

  it("answers 400 without detail to a signed payload with missing or malformed fields", async () => {
    const update = { before: "0".repeat(40), after: "a".repeat(40) };
    const whole = scenario.pushPayload("main", update);
    const broken: Record<string, unknown>[] = [
      { ...whole, repository: undefined },
      { ...whole, after: undefined },
      { ...whole, ref: "--upload-pack=touch /tmp/x" },
      { ...whole, repository: { ...(whole.repository as object), full_name: "../../etc" } },
    ];
    for (const payload of broken)
      expect(await scenario.deliver("push", payload)).toMatchObject({ status: 400, text: "bad request\n" });
    expect(scenario.output()).not.toMatch(/TypeError/);
    const health = await (await fetch(`${scenario.appUrl}/healthz`)).json();
    expect(health).toMatchObject({ queue: { scans: { pending: 0, running: 0 } } });
  });

  it("logs at the level LOG_LEVEL asks for", async () => {
    const update = await scenario.push("clean", { "readme.txt": "nothing secret\n" }, "Docs");
    expect((await scenario.deliver("push", scenario.pushPayload("clean", update))).status).toBe(200);
    await scenario.until("the scan", () => /scan job \d+ .*: 0 findings/.test(scenario.output()));
    // Debug lines (GitHub API calls) appear only because LOG_LEVEL says trace.
    expect(scenario.output()).toMatch(/"level":20/);
  });
});

describe(".github/leakwarden.yml, read through Probot's config loader from the GitHub stand-in", () => {
  it("labels, assigns and ignores paths as the repository asks", async () => {
    scenario.github.settings.set(
      "acme/app",
      "issues:\n  labels: [p0-leak]\n  assignees: [dana-dev]\npaths-ignore: ['*.fixture']\n",
    );
    const [kept, ignored] = [t.githubPat(), t.githubPat()];
    const update = await scenario.push(
      "settings",
      { "deploy.env": `GITHUB_TOKEN=${kept}\n`, "sample.fixture": `GITHUB_TOKEN=${ignored}\n` },
      "Add deploy settings",
    );
    const before = scenario.github.issues.length;
    expect((await scenario.deliver("push", scenario.pushPayload("settings", update))).status).toBe(200);
    const issue = await scenario.until("the issue", () => scenario.github.issues[before]);
    expect(issue.labels).toEqual(["security", "leaked-credential", "p0-leak"]);
    expect(issue.assignees).toEqual(["dana-dev"]);
    expect(issue.body).not.toMatch(/was ignored/);
    expect(issue.body).toContain("deploy.env");
    expect(issue.body).not.toContain("sample.fixture");
    expect(scenario.github.labels.has("p0-leak")).toBe(true);
  });
});
