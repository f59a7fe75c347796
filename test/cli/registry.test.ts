import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { spawnCli } from "../support/processes.js";
import { providerEnv, STAND_IN_ENTRA_TOKEN, startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
afterAll(dir.remove);
const t = tokens(41);
const AUTH_ID = "7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
let n = 0;
const newDb = () => join(dir.path, `cli-registry-${++n}`, "leakwarden.db");
const json = (text: string) => JSON.parse(text);

describe("leakwarden registry", () => {
  const db = newDb();
  const env = { LEAKWARDEN_DB: db };
  const pat = t.adoPat();
  const gh = t.githubPat();
  const outputs: string[] = [];
  const run = (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const result = runCli(["registry", ...args], { ...options, env: { ...env, ...options.env } });
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  it("add reads the token from stdin, infers the provider, and prints the entry", () => {
    const result = run(
      [
        "add",
        "--org",
        "contoso",
        "--authorization-id",
        AUTH_ID,
        "--owner",
        "alice",
        "--name",
        "build-agent",
        "--scopes",
        "vso.code vso.build",
        "--expires",
        "2027-03-31",
      ],
      { input: `${pat}\n` },
    );
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(
      `registered #1 azure-devops …${pat.slice(-4)} (build-agent, owner alice, org contoso)\n`,
    );
  });

  it("add reads --token-env, and --json prints the entry without the value", () => {
    const result = run(["add", "--token-env", "MY_TOKEN", "--json", "--name", "ci"], {
      env: { MY_TOKEN: gh },
    });
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toMatchObject({
      id: 2,
      provider: "github",
      preview: `ghp_…${gh.slice(-4)}`,
      name: "ci",
    });
    expect(json(result.stdout).secretHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("add warns when an Azure DevOps token cannot be revoked", () => {
    const result = run(["add"], { input: t.adoPat() });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: without --org and --authorization-id .* not revoke it/);
  });

  it("list shows previews and metadata, never values; --json for scripts", () => {
    const text = run(["list"]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(
      /^ID\s+PROVIDER\s+TOKEN\s+NAME\s+OWNER\s+ORG\s+SCOPES\s+EXPIRES\s+STATUS$/,
    );
    expect(text.stdout).toMatch(
      /1\s+azure-devops\s+…\S{4}\s+build-agent\s+alice\s+contoso\s+vso\.code vso\.build\s+2027-03-31\s+active/,
    );
    const list = json(run(["list", "--json"]).stdout);
    expect(list.map((e: { id: number }) => e.id)).toEqual([1, 2, 3]);
    expect(list[0]).toMatchObject({
      authorizationId: AUTH_ID,
      scopes: ["vso.code", "vso.build"],
      expiresAt: "2027-03-31T23:59:59.999Z",
    });
  });

  it("import reads JSON Lines and reports what it added and updated", () => {
    const file = join(dir.path, "tokens.jsonl");
    const more = [t.make("gitlab-pat-routable"), t.make("slack-bot-token")];
    writeFileSync(
      file,
      `${JSON.stringify({ token: more[0], owner: "bob" })}\n${JSON.stringify({ token: more[1], name: "bot" })}\n${JSON.stringify({ token: gh, name: "ci-renamed" })}\n`,
    );
    const result = run(["import", file]);
    expect(result).toMatchObject({ code: 0, stdout: `imported 3 tokens from ${file}: 2 added, 1 updated\n` });
    expect(json(run(["list", "--json"]).stdout).map((e: { name: string | null }) => e.name)).toEqual([
      "build-agent",
      "ci-renamed",
      null,
      null,
      "bot",
    ]);
    expectNotInText(outputs, [...more]);
  });

  it("audit reports hygiene problems and exits 1; remove forgets a token", () => {
    const full = t.adoPat();
    run(
      [
        "add",
        "--org",
        "contoso",
        "--authorization-id",
        AUTH_ID.replace("7f", "8f"),
        "--scopes",
        "app_token",
        "--all-orgs",
        "--created",
        "2026-01-05",
      ],
      {
        input: full,
      },
    );
    const audit = run(["audit"]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/^Registry hygiene: 6 registered tokens, \d+ problems/);
    expect(audit.stdout).toMatch(/full access\s+#6 azure-devops/);
    expect(audit.stdout).toMatch(/global PAT\s+#6 .*(will stop|stop|stopped) working on 2026-12-01/);
    expect(audit.stdout).toMatch(/not revocable\s+#3 azure-devops/);
    expect(audit.stdout).toMatch(/old\s+#6 .*days ago \(over 90\)/);
    const report = json(run(["audit", "--json"]).stdout);
    expect(
      report.problems.map((p: { check: string; token: { id: number } }) => `${p.check} #${p.token.id}`),
    ).toEqual(["full-scope #6", "all-orgs #6", "not-revocable #3", "old #6"]);
    expect(run(["remove", "6"])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^removed #6 azure-devops/),
    });
    expect(run(["remove", "6"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no registered token #6/),
    });
  });

  it("never writes a token to the database or any output", () => {
    expectNotInFiles(databaseFiles(db), [pat, gh]);
    expectNotInText(outputs, [pat, gh]);
  });
});

describe("leakwarden registry mint", () => {
  it("creates a PAT through the PAT lifecycle API, prints it once on stdout and stores only its hash", async () => {
    const db = newDb();
    const pat = t.adoPat();
    const standIn = await startStandIn((req) => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        patToken: {
          displayName: JSON.parse(req.body).displayName,
          validTo: JSON.parse(req.body).validTo,
          scope: JSON.parse(req.body).scope,
          targetAccounts: ["b1d6"],
          validFrom: "2026-11-28T00:00:00Z",
          authorizationId: AUTH_ID,
          token: pat,
        },
        patTokenError: "none",
      }),
    }));
    try {
      // Asynchronous: the stand-in answers from this process, which must not block while the CLI runs.
      const result = await spawnCli(
        [
          "registry",
          "mint",
          "--org",
          "contoso",
          "--name",
          "deploy",
          "--scopes",
          "vso.code",
          "--expires-in",
          "2w",
        ],
        { env: { ...providerEnv(standIn.url), LEAKWARDEN_DB: db } },
      ).done;
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${pat}\n`);
      expect(result.stderr).toMatch(
        /minted and registered #1 azure-devops …\S{4} \(deploy, org contoso\), authorization 7f3e9c4a/,
      );
      expect(result.stderr).not.toContain(pat);
      const [request] = standIn.requests;
      expect(request?.method).toBe("POST");
      expect(request?.url).toBe("/ado/contoso/_apis/tokens/pats?api-version=7.1-preview.1");
      expect(request?.headers.authorization).toBe(`Bearer ${STAND_IN_ENTRA_TOKEN}`);
      const body = JSON.parse(request?.body ?? "{}");
      expect(body).toMatchObject({ displayName: "deploy", scope: "vso.code", allOrgs: false });
      expect(Date.parse(body.validTo) - Date.now()).toBeGreaterThan(13.9 * 86400_000);
      const list = JSON.parse(runCli(["registry", "list", "--json"], { env: { LEAKWARDEN_DB: db } }).stdout);
      expect(list[0]).toMatchObject({ minted: true, authorizationId: AUTH_ID, scopes: ["vso.code"] });
      expectNotInFiles(databaseFiles(db), [pat]);
    } finally {
      await standIn.close();
    }
  });

  it.each([
    [["--scopes", "app_token"], /app_token gives full access/],
    [["--scopes", "vso.code", "--expires-in", "2y"], /at most one year/],
    [["--scopes", "vso.code", "--expires-in", "soon"], /--expires-in takes a lifetime such as 30d/],
  ])("refuses %j", (args, message) => {
    const result = runCli(["registry", "mint", "--org", "contoso", "--name", "x", ...args], {
      env: { LEAKWARDEN_DB: newDb(), LEAKWARDEN_ADO_TOKEN: "x" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
  });
});

describe("registry errors exit 2 with one line", () => {
  it.each([
    [["registry"], "", /name an action: add, import, list, remove, mint or audit/],
    [["registry", "frob"], "", /unknown action "frob"/],
    [["registry", "add"], "", /no token on stdin: pipe it in/],
    [["registry", "add"], "not-a-token", /not a token format leakwarden knows/],
    [
      ["registry", "add", "--token-env", "NOPE_NOT_SET"],
      "",
      /--token-env names NOPE_NOT_SET, which is not set/,
    ],
    [
      ["registry", "add", "--expires", "31/12/2026"],
      t.githubPat(),
      /--expires must be a date such as 2026-12-31/,
    ],
    [["registry", "add", "--authorization-id", "x", "--org", "o"], t.adoPat(), /must be a UUID/],
    [["registry", "list", "--expires-in", "3d"], "", /--expires-in does not apply to "registry list"/],
    [["registry", "list"], "", /no leakwarden database at/],
    [["registry", "remove", "abc"], "", /ID must be a number such as 12, not "abc"/],
    [["registry", "import", "/no/such.jsonl"], "", /cannot read "\/no\/such.jsonl": no such file or folder/],
  ])("%j", (args, input, message) => {
    const result = runCli(args, { input, env: { LEAKWARDEN_DB: newDb() } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("a value given on stdin is never echoed in an error", () => {
    const broken = t.corrupt(t.adoPat());
    const result = runCli(["registry", "add"], { input: broken, env: { LEAKWARDEN_DB: newDb() } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/checksum fails/);
    expect(result.stderr).not.toContain(broken);
  });

  it("help teaches with examples", () => {
    const result = runCli(["registry", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Usage: leakwarden registry <action>/);
    expect(result.stdout).toMatch(/never from the command line/);
  });
});
