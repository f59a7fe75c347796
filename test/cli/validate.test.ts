// Live checks through the compiled CLI: `scan --validate` in every format, `findings validate ID`, against a
// local stand-in for each issuer (one path prefix per issuer); each token reaches its own issuer and no other.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { spawnCli } from "../support/processes.js";
import { type RecordedRequest, type Reply, type StandIn, startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const t = tokens(1011);
const github = t.githubPat();
const npm = t.make("npm-token");
const openai = t.make("openai-api-key");
const awsKeyId = t.make("aws-access-key-id");
const awsSecret = t.make("aws-secret-access-key");
const secrets = [github, npm, openai, awsKeyId, awsSecret];
const moreSecrets = () => [revokedGithub, stubbornSlack];

const dir = tempDir();
const repo = join(dir.path, "repo");
let standIn: StandIn;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];
const json = { "content-type": "application/json" };

const acmeLive = `acme_${"Q8zr3LmW0pXk7TnV2bYc9HsJ4dFg6KwE".split("").reverse().join("")}`;
const acmeDead = `acme_${"Hs7Kq2Lm9Xw4Rt6Yb3Nv8Pc5Dz1Fg0Ja"}`;

const revokedGithub = t.githubPat();
const stubbornSlack = t.make("slack-bot-token");
const revokedAt = new Set<string>();

function answer(request: RecordedRequest): Reply {
  const auth = String(request.headers.authorization ?? "");
  if (request.url === "/github/credentials/revoke") {
    for (const value of (JSON.parse(request.body) as { credentials: string[] }).credentials)
      revokedAt.add(value);
    return { status: 202, body: "{}" };
  }
  if (request.url === "/github/user" && auth === `Bearer ${revokedGithub}`)
    return revokedAt.has(revokedGithub)
      ? { status: 401, body: '{"message":"Bad credentials"}' }
      : { status: 200, headers: json, body: '{"login":"hubot"}' };
  // Slack says it revoked the token, and auth.test keeps accepting it.
  if (request.url === "/slack/auth.revoke")
    return { status: 200, headers: json, body: '{"ok":true,"revoked":true}' };
  if (request.url === "/slack/auth.test")
    return { status: 200, headers: json, body: '{"ok":true,"user":"deploybot","team":"Acme"}' };
  if (request.url === "/acme/v1/whoami")
    return { status: request.headers["x-acme-key"] === acmeLive ? 200 : 403, body: "{}" };
  if (request.url === "/github/user")
    return request.headers.authorization === `Bearer ${github}`
      ? { status: 200, headers: { ...json, "x-oauth-scopes": "repo, gist" }, body: '{"login":"octocat"}' }
      : { status: 401, body: '{"message":"Bad credentials"}' };
  if (request.url === "/npm/-/whoami") return { status: 401, body: '{"error":"unauthorized"}' };
  if (request.url === "/openai/v1/models") return { status: 429, headers: { "retry-after": "30" } };
  if (request.url === "/sts/" && String(request.headers.authorization).includes(`Credential=${awsKeyId}/`))
    return {
      status: 200,
      headers: json,
      body: '{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Arn":"arn:aws:iam::123456789012:user/ci"}}}',
    };
  return { status: 404 };
}

/** The path prefix of each token's issuer at the stand-in: a token seen under any other prefix went astray. */
const ISSUER: [string, string][] = [
  [revokedGithub, "/github/"],
  [stubbornSlack, "/slack/"],
  [acmeLive, "/acme/"],
  [acmeDead, "/acme/"],
  [github, "/github/"],
  [npm, "/npm/"],
  [openai, "/openai/"],
  [awsKeyId, "/sts/"],
];

beforeAll(async () => {
  mkdirSync(repo, { recursive: true });
  writeFileSync(
    join(repo, "ci.env"),
    `GITHUB_TOKEN=${github}\nNPM_TOKEN=${npm}\nOPENAI_API_KEY=${openai}\naws_access_key_id = ${awsKeyId}\naws_secret_access_key = ${awsSecret}\n`,
  );
  standIn = await startStandIn(answer);
  env = {
    LEAKWARDEN_DB: join(dir.path, "state", "leakwarden.db"),
    LEAKWARDEN_GITHUB_API_URL: `${standIn.url}/github`,
    LEAKWARDEN_NPM_REGISTRY_URL: `${standIn.url}/npm`,
    LEAKWARDEN_OPENAI_API_URL: `${standIn.url}/openai`,
    LEAKWARDEN_AWS_STS_URL: `${standIn.url}/sts`,
    LEAKWARDEN_SLACK_API_URL: `${standIn.url}/slack`,
  };
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

describe("scan --validate", () => {
  it("reports live with identity and scopes, inactive, and unknown with why, in JSON", async () => {
    const result = await cli(["scan", ".", "--validate", "--format", "json"]);
    expect(result.code).toBe(1);
    const byRule = Object.fromEntries(
      (JSON.parse(result.stdout).findings as { ruleId: string; validation: unknown }[]).map((f) => [
        f.ruleId,
        f.validation,
      ]),
    );
    expect(byRule["github-pat"]).toMatchObject({
      status: "live",
      provider: "github",
      identity: "GitHub user octocat",
      scopes: ["repo", "gist"],
    });
    expect(byRule["npm-token"]).toMatchObject({ status: "inactive" });
    expect(byRule["openai-api-key"]).toMatchObject({
      status: "unknown",
      reason: expect.stringMatching(/throttled.*retry after 30 s/),
    });
    expect(byRule["aws-access-key-id"]).toMatchObject({
      status: "live",
      identity: "AWS arn:aws:iam::123456789012:user/ci",
    });
    expect(byRule["aws-secret-access-key"]).toEqual(byRule["aws-access-key-id"]);
    expect(result.stderr).toMatch(/live checks: 2 live, 1 inactive, 1 unknown/);
  });

  it("SARIF carries the verdict in each result's properties, text in the last column", async () => {
    const sarif = JSON.parse((await cli(["scan", ".", "--validate", "--format", "sarif"])).stdout);
    const results = sarif.runs[0].results as {
      ruleId: string;
      properties: { validation?: { status: string } };
    }[];
    expect(results.find((r) => r.ruleId === "github-pat")?.properties.validation?.status).toBe("live");
    const text = await cli(["scan", ".", "--validate"]);
    expect(text.stdout).toMatch(/github-pat\s+ghp_…\S{4}\s+live: GitHub user octocat \(repo, gist\)/);
    expect(text.stdout).toMatch(/npm-token\s+npm_…\S{4}\s+inactive/);
  });

  it("reuses a verdict within its time to live; a plain scan calls no one", async () => {
    const before = standIn.requests.length;
    await cli(["scan", ".", "--format", "json"]);
    expect(standIn.requests.length).toBe(before);
    await cli(["scan", ".", "--validate", "--format", "json"]);
    // Only the unknown verdict is asked again.
    expect(standIn.requests.slice(before).map((r) => r.url)).toEqual(["/openai/v1/models"]);
  });
});

describe("findings validate ID", () => {
  it("checks a recorded finding now with the token given on stdin, and refuses another token", async () => {
    await cli(["scan", ".", "--record"]);
    const list = JSON.parse((await cli(["findings", "list", "--json"])).stdout) as {
      id: number;
      ruleId: string;
      validation: { status: string } | null;
    }[];
    const finding = list.find((f) => f.ruleId === "github-pat") as { id: number; validation: unknown };
    expect(finding.validation).toMatchObject({ status: "live" });
    const before = standIn.requests.length;
    const checked = await cli(["findings", "validate", String(finding.id), "--json"], `${github}\n`);
    expect(checked.code).toBe(1);
    expect(JSON.parse(checked.stdout).validation).toMatchObject({
      status: "live",
      identity: "GitHub user octocat",
    });
    expect(standIn.requests.length).toBe(before + 1);
    const wrong = await cli(["findings", "validate", String(finding.id)], `${npm}\n`);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/not finding #\d+'s token/);
    const show = await cli(["findings", "show", String(finding.id)]);
    expect(show.stdout).toMatch(/live check\s+live: GitHub user octocat/);
  });
});

describe("a custom rule's live-check", () => {
  it("sends the token where the rule says, to the URL the rule fixes, and reads the statuses it lists", async () => {
    const rules = join(dir.path, "rules");
    mkdirSync(rules, { recursive: true });
    writeFileSync(
      join(rules, "acme.yml"),
      `rules:
  - id: acme-api-key
    provider: acme
    description: ACME API key
    regex: '(?<![A-Za-z0-9])acme_[A-Za-z0-9]{32}(?![A-Za-z0-9])'
    keywords: [acme_]
    prefix: acme_
    live-check:
      method: GET
      url: ${standIn.url}/acme/v1/whoami
      header: 'X-Acme-Key: {token}'
      live: [200]
      inactive: [401, 403]
    examples:
      match: ['ACME_KEY=acme_Q8zr3LmW0pXk7TnV2bYc9HsJ4dFg6KwE']
      nomatch: ['ACME_KEY=acme_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']
`,
    );
    const folder = join(dir.path, "acme");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "keys.env"), `ACME_KEY=${acmeLive}\nACME_OLD=${acmeDead}\n`);
    const result = await cli(["scan", folder, "--rules", rules, "--validate", "--format", "json"]);
    const found = JSON.parse(result.stdout).findings as {
      redacted: string;
      validation: { status: string };
    }[];
    expect(found.map((f) => f.validation.status)).toEqual(["live", "inactive"]);
    const calls = standIn.requests.filter((r) => r.url === "/acme/v1/whoami");
    expect(calls.map((r) => r.headers["x-acme-key"])).toEqual(expect.arrayContaining([acmeLive, acmeDead]));
  });

  it("a live-check that would put the token in the URL, or send it in clear to a remote host, is refused", async () => {
    const rules = join(dir.path, "bad-rules");
    mkdirSync(rules, { recursive: true });
    const rule = (check: string) => `rules:
  - id: acme-bad
    provider: acme
    description: ACME
    regex: 'acme_[A-Za-z0-9]{32}'
    keywords: [acme_]
    live-check:
${check}
    examples:
      match: ['acme_Q8zr3LmW0pXk7TnV2bYc9HsJ4dFg6KwE']
      nomatch: ['nothing']
`;
    for (const [check, problem] of [
      [
        "      url: https://acme.example/v1/{token}\n      query: key\n      live: [200]",
        /must not hold the token/,
      ],
      ["      url: http://acme.example/v1/me\n      query: key\n      live: [200]", /must be https/],
      ["      url: https://acme.example/v1/me\n      live: [200]", /exactly one of header .* or query/],
    ] as const) {
      writeFileSync(join(rules, "acme.yml"), rule(check));
      const result = await cli(["scan", ".", "--rules", rules]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(problem);
    }
  });
});

describe("scan --revoke --validate: confirmed revocation", () => {
  it("checks each revocation at once: revoked (confirmed), or revocation accepted while the token still works", async () => {
    const folder = join(dir.path, "revoke-me");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "ci.env"), `GH=${revokedGithub}\nSLACK_TOKEN=${stubbornSlack}\n`);
    const result = await cli(["scan", folder, "--revoke", "--validate", "--policy", "all"]);
    expect(result.stdout).toMatch(
      /github-pat\s+ghp_…\S{4}\s+finding #\d+ · revoked \(confirmed\) \d{4}-.* · inactive/,
    );
    expect(result.stdout).toMatch(
      /slack-bot-token\s+xoxb-…\S{4}\s+finding #\d+ · revocation accepted \d{4}-/,
    );
    // The re-check of the Slack token is a queued job, due later: nothing to run yet.
    const pending = await cli(["revoke", "--pending", "--wait", "0"]);
    expect(pending.code).toBe(0);
    expect(pending.stdout).not.toMatch(/revocation check/);
    const list = JSON.parse((await cli(["findings", "list", "--json"])).stdout) as {
      ruleId: string;
      revocation: { status: string; confirmation?: string } | null;
    }[];
    expect(list.find((f) => f.ruleId === "slack-bot-token")?.revocation).toMatchObject({
      status: "revoked",
      confirmation: "accepted",
    });
  });
});

describe("where the tokens went", () => {
  it("each token reached only its own issuer, and no plaintext was written or printed", () => {
    expect(standIn.requests.length).toBeGreaterThan(0);
    for (const request of standIn.requests) {
      const carried = `${request.url} ${JSON.stringify(request.headers)} ${request.body}`;
      for (const [token, prefix] of ISSUER)
        if (carried.includes(token))
          expect(request.url.startsWith(prefix), `${prefix} ${request.url}`).toBe(true);
      expect(carried).not.toContain(awsSecret);
    }
    expectNotInFiles(databaseFiles(env.LEAKWARDEN_DB as string), [...secrets, ...moreSecrets()]);
    expectNotInText(
      outputs.filter((o) => !o.includes("Token (input hidden)")),
      [...secrets, ...moreSecrets()],
    );
  });
});
