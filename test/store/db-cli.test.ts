// `leakwarden db status|migrate` through the real CLI, on a SQLite file and on PostgreSQL; and the registry,
// audit and findings commands on PostgreSQL selected by LEAKWARDEN_DATABASE_URL alone.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { runCli, tempDir } from "../support/cli.js";
import { expectNotInText } from "../support/plaintext.js";
import { createSchema, dropSchema, freshSchema, postgresMissing, urlForSchema } from "../support/postgres.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
const schemas: string[] = [];
afterAll(async () => {
  dir.remove();
  for (const schema of schemas) await dropSchema(schema);
});

describe("leakwarden db", () => {
  it("--help says which database is used and what each action does", () => {
    const help = runCli(["db", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/LEAKWARDEN_DATABASE_URL/);
    expect(help.stdout).toMatch(/advisory lock/);
    expect(help.stdout).toMatch(/leakwarden db migrate/);
  });

  it("on a SQLite file: status says what is pending (exit 1), migrate applies it, status is then up to date", () => {
    const db = join(dir.path, "status", "leakwarden.db");
    const env = { LEAKWARDEN_DB: db };
    const before = runCli(["db", "status"], { env });
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(
      `sqlite ${db}: schema version 0, this leakwarden knows ${MIGRATIONS.length}`,
    );
    expect(before.stdout).toContain(`pending: 1 ${MIGRATIONS[0]?.name}`);
    const migrate = runCli(["db", "migrate"], { env });
    expect(migrate).toMatchObject({ code: 0, stderr: "" });
    expect(migrate.stdout).toContain(`applied migrations ${MIGRATIONS.map((m) => m.version).join(", ")}`);
    const after = runCli(["db", "status", "--json"], { env });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({
      engine: "sqlite",
      current: MIGRATIONS.length,
      pending: [],
    });
    expect(runCli(["db", "migrate"], { env }).stdout).toContain("already up to date");
  });

  it("refuses an unknown action and a URL that is not PostgreSQL, clearly", () => {
    expect(runCli(["db", "drop"])).toMatchObject({ code: 2 });
    const wrong = runCli(["db", "status"], { env: { LEAKWARDEN_DATABASE_URL: "mysql://db/x" } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/must be a postgres:\/\/ URL/);
  });
});

describe.skipIf(postgresMissing)(
  `leakwarden on PostgreSQL${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    it("db status and migrate, then the registry, findings and audit commands, all on PostgreSQL", async () => {
      const schema = freshSchema("dbcli");
      schemas.push(schema);
      await createSchema(schema);
      const env = {
        LEAKWARDEN_DATABASE_URL: urlForSchema(schema),
        LEAKWARDEN_KEY: "cd".repeat(32),
        LEAKWARDEN_DB: join(dir.path, "must-not-be-used.db"),
      };
      const before = runCli(["db", "status"], { env });
      expect(before.code).toBe(1);
      expect(before.stdout).toMatch(/^postgres postgres:\/\/.*: schema version 0/);
      expect(runCli(["db", "migrate"], { env })).toMatchObject({ code: 0 });
      expect(runCli(["db", "status"], { env }).stdout).toContain("up to date");

      const pat = tokens(4242).githubPat();
      const add = runCli(["registry", "add", "--owner", "dana"], { env, input: pat });
      expect(add.stderr).toBe("");
      expect(add.code).toBe(0);
      const list = runCli(["registry", "list", "--json"], { env });
      expect(JSON.parse(list.stdout)).toMatchObject([{ provider: "github", owner: "dana" }]);
      const scan = runCli(["scan", "--record", "--registry", "-"], { env, input: `TOKEN=${pat}\n` });
      expect(scan.stderr).toContain("recorded 1 finding (1 new) in postgres://");
      const findings = runCli(["findings", "list", "--json"], { env });
      expect(JSON.parse(findings.stdout)).toMatchObject([{ provider: "github", status: "open" }]);
      const audit = runCli(["audit", "list", "--json"], { env });
      expect(JSON.parse(audit.stdout).map((e: { action: string }) => e.action)).toContain("registry.add");
      expectNotInText(
        [add.stdout, list.stdout, scan.stdout, scan.stderr, findings.stdout, audit.stdout],
        [pat],
      );
      // Nothing went to the SQLite file.
      expect(runCli(["db", "status", "--db", env.LEAKWARDEN_DB]).stdout).toContain("schema version 0");
    });

    it("refuses to run without LEAKWARDEN_KEY on PostgreSQL", async () => {
      const schema = freshSchema("nokey");
      schemas.push(schema);
      await createSchema(schema);
      const result = runCli(["registry", "list"], { env: { LEAKWARDEN_DATABASE_URL: urlForSchema(schema) } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/LEAKWARDEN_KEY is required with PostgreSQL/);
    });
  },
);
