// `leakwarden db copy`: a populated SQLite store moved into an empty PostgreSQL one, then the App's revocation
// worker running on the copy: the queued revocation (sealed with the SQLite key file) runs there.
import { join } from "node:path";
import { sql } from "kysely";
import nock from "nock";
import { afterAll, describe, expect, it } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import { actOnFindings } from "../../src/revoke/act.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { RevocationWorker } from "../../src/revoke/worker.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret } from "../../src/scan/secret.js";
import { openStore } from "../../src/store/index.js";
import { scanText } from "../revoke/harness.js";
import { runCli, tempDir } from "../support/cli.js";
import { expectNotInText } from "../support/plaintext.js";
import {
  createSchema,
  dropSchema,
  freshSchema,
  postgresMissing,
  TEST_DATABASE_URL,
  urlForSchema,
} from "../support/postgres.js";
import { tokens } from "../support/tokens.js";
import { TEST_KEY } from "./engines.js";

const dir = tempDir();
const schema = freshSchema("copy");
afterAll(async () => {
  dir.remove();
  await dropSchema(schema);
});

describe.skipIf(postgresMissing)(`db copy${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`, () => {
  it("copies every table with its ids into an empty PostgreSQL database, and the App goes on there", async () => {
    const path = join(dir.path, "old.db");
    const t = tokens(515);
    const ado = t.adoPat();
    const github = t.githubPat();
    // A SQLite store as a year of use leaves it: registry, findings, a queued sealed revocation, the App's tables.
    const old = await openStore({ path, env: {} });
    await new Registry(old).add(new Secret(ado), {
      org: "contoso",
      authorizationId: "7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
      owner: "dana",
    });
    await actOnFindings(old, createRevokers({}), loadRules([]), scanText(`A=${ado}\nG=${github}\n`), {
      revoke: true,
      policy: "all",
      source: "acme/app",
    });
    await old.deliveries.record("delivery-1", "push", "acme/app");
    await old.breaches.open("push:acme/app:1", "acme/app", 42, [
      { secretHash: "sha256:".padEnd(71, "a"), preview: "…", description: "x" },
    ]);
    await old.validations.save(
      "sha256:".padEnd(71, "b"),
      "github",
      { status: "inactive", detail: "401" },
      60_000,
    );
    const before = { jobs: (await old.jobs.list()).length, audit: (await old.audit.list()).length };
    expect(before.jobs).toBe(2);
    await old.close();

    await createSchema(schema);
    const url = urlForSchema(schema);
    const copy = runCli(["db", "copy", "--db", path, "--to", url], { env: { LEAKWARDEN_KEY: TEST_KEY } });
    expect(copy.stderr, copy.stderr).toContain("leakwarden db copy: findings: 2 rows");
    expect(copy).toMatchObject({ code: 0 });
    expect(copy.stdout).toMatch(/copied \d+ rows from .* into postgres:\/\/.*; row counts match/);
    // A second copy into the now populated database is refused, and changes nothing.
    const again = runCli(["db", "copy", "--db", path, "--to", url], { env: { LEAKWARDEN_KEY: TEST_KEY } });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty \(tokens: 1 rows/);

    const pg = await openStore({ url: TEST_DATABASE_URL, schema, env: { LEAKWARDEN_KEY: TEST_KEY } });
    expect((await pg.jobs.list()).length).toBe(before.jobs);
    expect((await pg.audit.list()).length).toBe(before.audit);
    expect((await pg.findings.list()).map((f) => f.source)).toEqual(["acme/app", "acme/app"]);
    expect(await pg.deliveries.record("delivery-1", "push", "acme/app")).toBe(false);
    // Ids go on after the copied ones.
    expect((await pg.audit.record({ action: "test.after-copy" })).id).toBe(before.audit + 1);
    await expect(sql`DELETE FROM audit`.execute(pg.db)).rejects.toThrow(/append-only/);

    // The GitHub revocation queued on SQLite runs on the copy: its sealed value opens with LEAKWARDEN_KEY.
    nock.disableNetConnect();
    const revoked = nock("https://api.github.com")
      .post("/credentials/revoke", { credentials: [github] })
      .reply(202, {});
    const worker = new RevocationWorker({ store: pg, revokers: createRevokers({}) });
    await worker.runDue();
    expect(revoked.isDone()).toBe(true);
    nock.cleanAll();
    nock.enableNetConnect();
    const jobs = await pg.jobs.list();
    expect(jobs.find((j) => j.queue === "github")).toMatchObject({ state: "done", sealed: null });

    const dump = [];
    for (const table of [
      "tokens",
      "findings",
      "jobs",
      "audit",
      "deliveries",
      "breaches",
      "breach_tokens",
      "validations",
    ])
      dump.push(JSON.stringify((await sql.raw(`SELECT * FROM ${table}`).execute(pg.db)).rows));
    expectNotInText([...dump, copy.stdout, copy.stderr], [ado, github]);
    await pg.close();
  });
});
