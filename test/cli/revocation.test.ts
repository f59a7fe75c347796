// The security team's day, end to end through the compiled CLI: scan, record, match, revoke, review, resolve.
// Providers are a local stand-in server (a child process cannot be intercepted by nock).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { spawnCli } from "../support/processes.js";
import {
  providerEnv,
  type RecordedRequest,
  type Reply,
  revokeOk,
  STAND_IN_ENTRA_TOKEN,
  type StandIn,
  startStandIn,
} from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const t = tokens(51);
const AUTH_ID = "3c9a1e57-4b2d-4e5f-9a8b-7c6d5e4f3a2b";
const pat = t.adoPat();
const github = t.githubPat();
const gitlab = t.make("gitlab-pat-routable");
const slack = t.make("slack-bot-token");
const npm = t.make("npm-token");
const secrets = [pat, github, gitlab, slack, npm];

const dir = tempDir();
const repo = join(dir.path, "repo");
const db = join(dir.path, "state", "leakwarden.db");
let standIn: StandIn;
/** Per path prefix, answers to give before the usual success. */
const scripted = new Map<string, Reply[]>();
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];

beforeAll(async () => {
  mkdirSync(join(repo, "deploy"), { recursive: true });
  writeFileSync(join(repo, "deploy", "pipeline.yml"), `env:\n  AZURE_DEVOPS_EXT_PAT: ${pat}\n`);
  writeFileSync(
    join(repo, "config.env"),
    `GITHUB_TOKEN=${github}\nGITLAB_TOKEN=${gitlab}\nNPM_TOKEN=${npm}\n`,
  );
  standIn = await startStandIn((request: RecordedRequest) => {
    for (const [prefix, replies] of scripted)
      if (request.url.startsWith(prefix) && replies.length > 0) return replies.shift() as Reply;
    return revokeOk(request);
  });
  env = { ...providerEnv(standIn.url), LEAKWARDEN_DB: db, LEAKWARDEN_ACTOR: "secops" };
});
afterAll(async () => {
  await standIn.close();
  dir.remove();
});

async function cli(args: string[], input = "") {
  const result = await spawnCli(args, { env, input, cwd: repo }).done;
  outputs.push(result.stdout, result.stderr);
  return result;
}
const json = (text: string) => JSON.parse(text);
const byRule = (report: { findings: { ruleId: string }[] }) =>
  Object.fromEntries(report.findings.map((f) => [f.ruleId, f]));

describe("scan --dry-run, --record, --registry, --revoke", () => {
  it("register the organisation's Azure DevOps PAT", async () => {
    const result = await cli(
      [
        "registry",
        "add",
        "--org",
        "contoso",
        "--authorization-id",
        AUTH_ID,
        "--owner",
        "alice",
        "--name",
        "deploy",
      ],
      pat,
    );
    expect(result.code).toBe(0);
  });

  it("--dry-run shows what --revoke --policy all would do, and writes and calls nothing", async () => {
    const result = await cli(["scan", ".", "--dry-run", "--policy", "all", "--format", "json"]);
    expect(result.code).toBe(1);
    const f = byRule(json(result.stdout));
    expect(f["azure-devops-pat"]).toMatchObject({
      registry: { id: 1, provider: "azure-devops", owner: "alice", name: "deploy" },
      revocation: { status: "would-revoke", provider: "azure-devops", at: null },
    });
    expect(f["github-pat"]).toMatchObject({
      registry: null,
      revocation: { status: "would-revoke", provider: "github" },
    });
    expect(f["npm-token"]).toMatchObject({ revocation: { status: "not-revocable", provider: null } });
    expect(f["github-pat"]).not.toHaveProperty("findingId");
    expect(result.stderr).toMatch(/dry run: 1 registered token; tokens: 3 would-revoke, 1 not-revocable/);
    expect(standIn.requests).toEqual([]);
    expect((await cli(["findings", "list", "--json"])).stdout.trim()).toBe("[]");
  });

  it("--record stores the findings; a re-scan updates them instead of adding new ones", async () => {
    const first = await cli(["scan", ".", "--record", "--format", "json"]);
    const f = byRule(json(first.stdout));
    expect(Object.keys(f["github-pat"] as object)).toContain("findingId");
    expect(f["github-pat"]).not.toHaveProperty("registry");
    expect(f["github-pat"]).not.toHaveProperty("revocation");
    expect(first.stderr).toMatch(/recorded 4 findings \(4 new\) in /);
    const again = await cli(["scan", ".", "--record", "--format", "json"]);
    expect(again.stderr).toMatch(/recorded 4 findings \(0 new\)/);
    expect(
      json(again.stdout)
        .findings.map((x: { findingId: number }) => x.findingId)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
  });

  it("--registry marks registry matches", async () => {
    const result = await cli(["scan", ".", "--registry", "--format", "json"]);
    const f = byRule(json(result.stdout));
    expect(f["azure-devops-pat"]).toMatchObject({ registry: { id: 1, name: "deploy" } });
    expect(f["gitlab-pat-routable"]).toMatchObject({ registry: null });
    expect(result.stderr).toMatch(/1 registered token/);
  });

  it("--revoke revokes the registered PAT through the Token Admin API, once", async () => {
    const result = await cli(["scan", ".", "--revoke", "--format", "json"]);
    expect(result.code).toBe(1);
    const f = byRule(json(result.stdout));
    expect(f["azure-devops-pat"]).toMatchObject({
      revocation: { status: "revoked", provider: "azure-devops", at: expect.stringMatching(/^2\d{3}-/) },
    });
    expect(f["github-pat"]).toMatchObject({
      revocation: { status: "skipped", reason: expect.stringMatching(/not in the registry/) },
    });
    expect(standIn.requests).toHaveLength(1);
    const [call] = standIn.requests;
    expect(call).toMatchObject({
      method: "POST",
      url: "/ado/contoso/_apis/tokenadmin/revocations?api-version=7.1",
    });
    expect(call?.headers.authorization).toBe(`Bearer ${STAND_IN_ENTRA_TOKEN}`);
    expect(call?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(call?.body ?? "")).toEqual([{ authorizationId: AUTH_ID }]);
    expect(result.stderr).toMatch(/tokens: 1 revoked, 1 not-revocable, 2 skipped/);
    expect(result.stderr).toMatch(
      /warning: LEAKWARDEN_ADO_TOKEN is a static Microsoft Entra token: it expires/,
    );
  });

  it("--revoke --policy all also revokes unregistered tokens by value, and never the same token twice", async () => {
    scripted.set("/gitlab/", [{ status: 500 }]); // one failure first: retried after a short backoff
    const text = await cli(["scan", ".", "--revoke", "--policy", "all"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/github-pat\s+ghp_…\S{4}\s+finding #\d · revoked \d{4}-/);
    expect(text.stdout).toMatch(
      /azure-devops-pat\s+…\S{4}\s+finding #\d · registered #1 deploy \(alice\) · revoked/,
    );
    expect(text.stdout).toMatch(/npm-token\s+npm_…\S{4}\s+finding #\d · not revocable/);
    const calls = standIn.requests.slice(1).map((r) => `${r.method} ${r.url}`);
    expect(calls.sort()).toEqual([
      "DELETE /gitlab/api/v4/personal_access_tokens/self",
      "DELETE /gitlab/api/v4/personal_access_tokens/self",
      "POST /github/credentials/revoke",
    ]);
    const githubCall = standIn.requests.find((r) => r.url === "/github/credentials/revoke");
    expect(JSON.parse(githubCall?.body ?? "")).toEqual({ credentials: [github] });
    expect(githubCall?.headers.authorization).toBeUndefined();
    expect(githubCall?.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(
      standIn.requests
        .filter((r) => r.url.startsWith("/gitlab/"))
        .every((r) => r.headers["private-token"] === gitlab),
    ).toBe(true);
    const before = standIn.requests.length;
    expect((await cli(["scan", ".", "--revoke", "--policy", "all"])).code).toBe(1);
    expect(standIn.requests.length).toBe(before);
  });
});

describe("reviewing findings", () => {
  it("findings list: a table on a terminal, JSON for scripts, filters by status and provider", async () => {
    const table = await cli(["findings", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(
      /^ID\s+STATUS\s+RULE\s+TOKEN\s+LOCATION\s+REGISTRY\s+REVOCATION\s+LAST SEEN$/,
    );
    expect(table.stdout).toMatch(
      /revoked\s+azure-devops-pat\s+…\S{4}\s+\/\S+\/repo: deploy\/pipeline\.yml:2:25\s+#1 deploy\s+revoked/,
    );
    expect(table.stdout).toMatch(/4 findings, 1 open/);
    const open = json((await cli(["findings", "list", "--status", "open", "--json"])).stdout);
    expect(open.map((f: { ruleId: string }) => f.ruleId)).toEqual(["npm-token"]);
    const gh = json((await cli(["findings", "list", "--provider", "github", "--json"])).stdout);
    expect(gh[0]).toMatchObject({
      status: "revoked",
      registry: null,
      revocation: { status: "revoked", provider: "github" },
    });
  });

  it("findings show: everything about one finding, with its token's history", async () => {
    const id = json((await cli(["findings", "list", "--provider", "gitlab", "--json"])).stdout)[0].id;
    const result = await cli(["findings", "show", String(id)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Finding #${id}  revoked`));
    expect(result.stdout).toMatch(/revocation\s+revoked .* via gitlab \(job \d+\)/);
    expect(result.stdout).toMatch(/secops\s+revoke\.retry/);
    expect(result.stdout).toMatch(
      /secops\s+revoke\.revoked\s+job:\d+\s+call: DELETE http:\/\/127\.0\.0\.1:\d+\/gitlab\/api\/v4\/personal_access_tokens\/self; status: 204/,
    );
    const data = json((await cli(["findings", "show", String(id), "--json"])).stdout);
    expect(data.history.map((e: { action: string }) => e.action)).toEqual([
      "revoke.enqueue",
      "revoke.attempt",
      "revoke.retry",
      "revoke.attempt",
      "revoke.revoked",
    ]);
  });

  it("findings resolve closes a finding with a reason", async () => {
    const id = json((await cli(["findings", "list", "--status", "open", "--json"])).stdout)[0].id;
    const result = await cli([
      "findings",
      "resolve",
      String(id),
      "--as",
      "accepted-risk",
      "--note",
      "npm token of a test registry",
    ]);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/resolved as accepted-risk/) });
    const shown = json((await cli(["findings", "show", String(id), "--json"])).stdout);
    expect(shown).toMatchObject({
      status: "resolved",
      resolution: "accepted-risk",
      note: "npm token of a test registry",
    });
  });
});

describe("leakwarden revoke", () => {
  const slackFile = () => join(repo, "chat.env");

  it("revokes one finding's token by hand, asking for the value when leakwarden does not hold it", async () => {
    writeFileSync(slackFile(), `SLACK_BOT_TOKEN=${slack}\n`);
    const scan = await cli(["scan", "chat.env", "--record", "--format", "json"]);
    const id = json(scan.stdout).findings[0].findingId;
    const dry = await cli(["revoke", String(id), "--dry-run"]);
    expect(dry).toMatchObject({
      code: 0,
      stdout: `would revoke xoxb-…${slack.slice(-4)} (finding #${id}) through slack: POST ${standIn.url}/slack/auth.revoke\n`,
    });
    const without = await cli(["revoke", String(id)]);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/needs the token itself, and leakwarden does not keep it: pipe it in/);
    const wrong = await cli(["revoke", String(id)], t.make("slack-bot-token"));
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringMatching(/not the one of finding/) });
    const before = standIn.requests.length;
    const result = await cli(["revoke", String(id), "--json"], slack);
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toMatchObject({ status: "revoked", provider: "slack" });
    const call = standIn.requests[before];
    expect(call).toMatchObject({ method: "POST", url: "/slack/auth.revoke" });
    expect(call?.headers.authorization).toBe(`Bearer ${slack}`);
    expect((await cli(["revoke", String(id)])).stdout).toMatch(/revoked .* via slack/);
    expect(standIn.requests.length).toBe(before + 1);
  });

  it("--pending runs what a scan left queued", async () => {
    const other = t.make("github-installation-token");
    writeFileSync(join(repo, "ci.log"), `token ${other}\n`);
    scripted.set("/github/installation", [{ status: 503 }]);
    const scan = await cli([
      "scan",
      "ci.log",
      "--revoke",
      "--policy",
      "all",
      "--wait",
      "0",
      "--format",
      "json",
    ]);
    expect(json(scan.stdout).findings[0].revocation).toMatchObject({
      status: "pending",
      provider: "github-installation",
    });
    expect(scan.stderr).toMatch(/attempt 1 failed .*503.*retrying at/);
    const result = await cli(["revoke", "--pending"]);
    expect(result).toMatchObject({ code: 0, stdout: "1 token revoked, 0 failed, 0 still queued\n" });
    expect(standIn.requests.at(-1)?.headers.authorization).toBe(`Bearer ${other}`);
    secrets.push(other);
  });

  it("errors exit 2 with one line", async () => {
    for (const [args, message] of [
      [["revoke"], /the finding's ID \(see 'leakwarden findings list'\) is missing/],
      [["revoke", "999"], /no finding #999/],
      [["revoke", "1", "--wait", "soon"], /--wait takes a whole number/],
      [["findings", "resolve", "1"], /needs --as false-positive\|accepted-risk\|revoked-manually/],
      [["findings", "resolve", "1", "--as", "oops"], /--as must be one of/],
      [["findings", "list", "--status", "gone"], /--status must be one of open, revoked, resolved/],
      [["scan", ".", "--revoke", "--policy", "some"], /--policy must be one of registered, live, all, off/],
      [["audit", "list", "--limit", "0"], /--limit takes a whole number of at least 1/],
    ] as const) {
      const result = await cli([...args]);
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("the audit log", () => {
  it("lists who did what, newest last; --json and --action for scripts", async () => {
    const text = await cli(["audit", "list", "--limit", "200"]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^AT\s+ACTOR\s+ACTION\s+SUBJECT\s+PROVIDER\s+DETAIL$/);
    expect(text.stdout).toMatch(/secops\s+registry\.add\s+token:1\s+azure-devops/);
    expect(text.stdout).toMatch(/secops\s+finding\.resolve\s+finding:\d+\s+npm/);
    const revoked = json((await cli(["audit", "list", "--json", "--action", "revoke.revoked"])).stdout);
    expect(revoked.map((e: { provider: string }) => e.provider).sort()).toEqual([
      "azure-devops",
      "github",
      "github-installation",
      "gitlab",
      "slack",
    ]);
  });
});

describe("the plaintext never leaves the process", () => {
  it("not in the database files, nor in any output of any command above", () => {
    expect(outputs.length).toBeGreaterThan(40);
    expectNotInFiles(databaseFiles(db), secrets);
    expectNotInText(outputs, secrets);
  });

  it("help for every new command teaches with examples", () => {
    for (const command of ["findings", "revoke", "audit", "registry"]) {
      const result = runCli([command, "--help"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Examples/);
    }
    expect(runCli(["scan", "--help"]).stdout).toMatch(/--revoke\s+record, match, and revoke per --policy/);
    expect(runCli(["--help"]).stdout).toMatch(/registry\s+manage the registry/);
  });
});
