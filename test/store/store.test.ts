import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { secretHash } from "../../src/scan/secret.js";
import type { PublicFinding } from "../../src/scan/types.js";
import { openDatabase } from "../../src/store/database.js";
import { openStore } from "../../src/store/index.js";
import { JobTable } from "../../src/store/jobs.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { databaseStatus, migrateDatabase } from "../../src/store/schema-admin.js";
import { keyFilePath, SecretBox } from "../../src/store/secret-box.js";
import { tempDir } from "../support/cli.js";
import { postgresMissing } from "../support/postgres.js";
import { countStatements } from "../support/statements.js";
import { tokens } from "../support/tokens.js";
import { type Engine, engines, engineTitle, type FreshOptions, TEST_KEY } from "./engines.js";

const dir = tempDir();
afterAll(dir.remove);
let n = 0;
const freshPath = () => join(dir.path, `db${++n}`, "leakwarden.db");
const mode = (file: string) => statSync(file).mode & 0o777;

function finding(overrides: Partial<PublicFinding> = {}): PublicFinding {
  return {
    ruleId: "github-pat",
    provider: "github",
    description: "GitHub personal access token (classic)",
    severity: "critical",
    confidence: "high",
    file: "src/a.ts",
    line: 3,
    column: 7,
    endLine: 3,
    endColumn: 47,
    encoding: "plain",
    redacted: "ghp_…abcd",
    secretHash: secretHash("x"),
    fingerprint: "f".repeat(32),
    ...overrides,
  };
}

describe("opening the database", () => {
  it("creates the folder and a private file in WAL mode, with private -wal and -shm files", async () => {
    const path = freshPath();
    const store = await openStore({ path, env: {} });
    await store.tokens.insert({ secretHash: secretHash("a"), preview: "…", provider: "github" });
    expect(store.sqlite?.pragma("journal_mode", { simple: true })).toBe("wal");
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file)).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    await store.close();
  });

  it("runs the numbered migrations once and records the version", async () => {
    const path = freshPath();
    await (await openStore({ path, env: {} })).close();
    const db = new Database(path);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    expect(tables).toEqual([
      "audit",
      "backfills",
      "breach_tokens",
      "breaches",
      "deliveries",
      "findings",
      "jobs",
      "pull_request_scans",
      "tokens",
      "validations",
      "write_pace",
    ]);
    db.close();
    // Opening again changes nothing and loses nothing.
    const store = await openStore({ path, env: {} });
    await store.audit.record({ action: "test.mark" });
    await store.close();
    const again = await openStore({ path, env: {} });
    expect((await again.audit.list()).map((e) => e.action)).toEqual(["test.mark"]);
    await again.close();
  });

  it("brings a database made by an older version up to date, keeping its data", async () => {
    const path = freshPath();
    const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) });
    old
      .prepare("INSERT INTO audit (at, actor, action) VALUES ('2026-01-01T00:00:00.000Z', 'me', 'test.old')")
      .run();
    await old.close();
    const store = await openStore({ path, env: {} });
    expect(store.sqlite?.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(await store.deliveries.record("d1", "push", "acme/app")).toBe(true);
    expect(await store.deliveries.record("d1", "push", "acme/app")).toBe(false);
    expect((await store.audit.list()).map((e) => e.action)).toEqual(["test.old"]);
    await store.close();
  });

  it("refuses a database from a newer leakwarden, and a mis-numbered migration list", async () => {
    const path = freshPath();
    await (await openStore({ path, env: {} })).close();
    const db = new Database(path);
    db.pragma("user_version = 99");
    db.close();
    await expect(openStore({ path, env: {} })).rejects.toThrow(
      /schema version 99, newer than this leakwarden knows/,
    );
    // Refused before anything changed it: a newer leakwarden's file keeps its journal mode.
    const rollback = freshPath();
    await (await openStore({ path: rollback, env: {} })).close();
    const newer = new Database(rollback);
    newer.pragma("journal_mode = DELETE");
    newer.pragma("user_version = 99");
    newer.close();
    await expect(openStore({ path: rollback, env: {} })).rejects.toThrow(/newer than this leakwarden knows/);
    const after = new Database(rollback, { readonly: true });
    expect(after.pragma("journal_mode", { simple: true })).toBe("delete");
    after.close();
    expect(() =>
      openDatabase(freshPath(), { migrations: [{ version: 2, name: "skipped one", sql: "" }] }),
    ).toThrow(/is number 2, expected 1/);
  });

  it("refuses a database or key file that others can read or write, or that another user owns, as ssh does", async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "", { mode: 0o644 });
    chmodSync(path, 0o644);
    await expect(openStore({ path, env: {} })).rejects.toThrow(
      `the database "${path}" can be read or written by other users (mode 0644); fix it with: chmod 600 "${path}"`,
    );
    chmodSync(path, 0o600);
    const store = await openStore({ path, env: {} });
    // Another user got there first with a key they know.
    writeFileSync(keyFilePath(path), `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o666 });
    chmodSync(keyFilePath(path), 0o666);
    expect(() => store.box.seal("value", "k")).toThrow(
      /the key file ".*" can be read or written by other users/,
    );
    await store.close();
  });

  it.runIf(process.getuid?.() === 0)("refuses a database that another user owns", async () => {
    const path = freshPath();
    await (await openStore({ path, env: {} })).close();
    chownSync(path, 4242, 4242);
    await expect(openStore({ path, env: {} })).rejects.toThrow(
      /the database ".*" is owned by another user \(uid 4242\).*chown 0 "/,
    );
  });

  it("says how to create a database when a command needs one that is missing", async () => {
    await expect(openStore({ path: join(dir.path, "none", "x.db"), env: {}, create: false })).rejects.toThrow(
      /no leakwarden database at .*'leakwarden scan --record'/,
    );
  });

  it("takes its path from LEAKWARDEN_DB", async () => {
    const path = freshPath();
    const store = await openStore({ env: { LEAKWARDEN_DB: path } });
    expect(store.path).toBe(path);
    await store.close();
  });
});

// Everything below runs on both engines: the same tests, not a copy.
describe.each(engines("store"))("on $name", (engine) => {
  afterAll(engine.cleanup);
  const open = (options: FreshOptions = {}) => engine.open(engine.target(), options);

  describe.skipIf(engine.missing)(engineTitle(engine), () => {
    it("migrates an empty database once and records the version; opening again loses nothing", async () => {
      const target = engine.target();
      const store = await engine.open(target);
      expect(await databaseStatus(target)).toMatchObject({ current: MIGRATIONS.length, pending: [] });
      await store.audit.record({ action: "test.mark" });
      await store.close();
      const again = await engine.open(target);
      expect((await again.audit.list()).map((e) => e.action)).toEqual(["test.mark"]);
      await again.close();
      expect(await migrateDatabase(target)).toEqual([]);
    });

    it("brings a database made by an older version up to date, keeping its data", async () => {
      const target = engine.target();
      const old = await engine.open(target, { migrations: MIGRATIONS.slice(0, 1) });
      await old.audit.record({ action: "test.old" });
      await old.close();
      expect(await databaseStatus(target)).toMatchObject({ current: 1, latest: MIGRATIONS.length });
      const store = await engine.open(target);
      expect(await store.deliveries.record("d1", "push", "acme/app")).toBe(true);
      expect(await store.deliveries.record("d1", "push", "acme/app")).toBe(false);
      expect((await store.audit.list()).map((e) => e.action)).toEqual(["test.old"]);
      await store.close();
    });

    it("a delivery queues its job once: a redelivery rolls back the job it would have queued", async () => {
      const store = await open();
      const job = (key: string) => ({ kind: "scan", key, queue: "scan", payload: {}, maxAttempts: 1 });
      const delivery = { id: "d-accept", event: "push", repository: "acme/app" };
      expect(await store.acceptDelivery(delivery, job("scan:a"))).toBe("queued");
      expect(await store.acceptDelivery({ ...delivery, id: "d-again" }, job("scan:a"))).toBe(
        "already-queued",
      );
      // The same delivery again, with a job that would be new: nothing is queued.
      expect(await store.acceptDelivery(delivery, job("scan:b"))).toBe("duplicate-delivery");
      expect(await store.jobs.byKey("scan:b")).toBeUndefined();
      const queued = await store.jobs.byKey("scan:a");
      expect((await store.deliveries.byId("d-accept"))?.jobId).toBe(queued?.id);
      expect((await store.deliveries.byId("d-again"))?.jobId).toBe(queued?.id);
      await store.close();
    });

    it("refuses a schema newer than it knows, with a clear message", async () => {
      const target = engine.target();
      const store = await engine.open(target);
      await engine.setVersion(store, 99);
      await store.close();
      await expect(engine.open(target)).rejects.toThrow(
        /schema version 99, newer than this leakwarden knows \(\d+\); upgrade leakwarden/,
      );
    });

    it("the audit log is append-only", async () => {
      const store = await open();
      const entry = await store.audit.record({
        action: "registry.add",
        subject: "token:1",
        detail: { a: 1 },
      });
      expect(entry).toMatchObject({ actor: "tester", action: "registry.add", detail: { a: 1 } });
      await expect(sql`UPDATE audit SET action = 'x'`.execute(store.db)).rejects.toThrow(
        /audit is append-only/,
      );
      await expect(sql`DELETE FROM audit`.execute(store.db)).rejects.toThrow(/audit is append-only/);
      if (engine.name === "postgres")
        await expect(sql`TRUNCATE audit`.execute(store.db)).rejects.toThrow(/audit is append-only/);
      expect((await store.audit.list({ action: "registry." })).length).toBe(1);
      expect((await store.audit.list({ action: "registry" })).length).toBe(0);
      await store.close();
    });

    it("a finding is unique by fingerprint, source and location: a re-scan updates it and keeps its triage", async () => {
      const store = await open();
      const first = await store.findings.record(finding());
      expect(first.created).toBe(true);
      await store.findings.resolve(first.finding.id, "accepted-risk", "test fixture");
      const again = await store.findings.record(finding({ confidence: "medium" }));
      expect(again.created).toBe(false);
      expect(again.finding).toMatchObject({ id: first.finding.id, status: "resolved", confidence: "medium" });
      const moved = await store.findings.record(finding({ line: 9 }));
      expect(moved.created).toBe(true);
      const otherSource = await store.findings.record(finding(), "acme/app");
      expect(otherSource.created).toBe(true);
      expect((await store.findings.list()).length).toBe(3);
      // Many at once, with a place repeated inside one batch: counted twice, reported in order.
      const batch = await store.findings.recordMany(
        [finding({ line: 20 }), finding({ line: 21 }), finding({ line: 20 })],
        "acme/app",
      );
      expect(batch.map((r) => [r.finding.line, r.created, r.finding.timesSeen])).toEqual([
        [20, true, 1],
        [21, true, 1],
        [20, false, 2],
      ]);
      await store.close();
    });

    it("a token is registered once, and never by value", async () => {
      const store = await open();
      const hash = secretHash("t1");
      await store.tokens.insert({ secretHash: hash, preview: "…t1", provider: "github", scopes: ["a", "b"] });
      await expect(
        store.tokens.insert({ secretHash: hash, preview: "…t1", provider: "github" }),
      ).rejects.toThrow(/already registered as #/);
      expect((await store.tokens.byHash(hash))?.scopes).toEqual(["a", "b"]);
      await expect(
        sql`INSERT INTO tokens (secret_hash, preview, provider, created_at, registered_at)
          VALUES (${"ghp_plaintext"}, ${"…"}, ${"github"}, ${"x"}, ${"x"})`.execute(store.db),
      ).rejects.toThrow(/CHECK constraint|check constraint/);
      await store.close();
    });

    it("enqueueing is idempotent by key, and two connections never claim the same job", async () => {
      const target = engine.target();
      const a = await engine.open(target);
      const b = await engine.open(target);
      const job = { kind: "revoke", key: "revoke:k1", queue: "github", payload: { x: 1 }, maxAttempts: 3 };
      expect((await a.jobs.enqueue(job)).created).toBe(true);
      expect((await b.jobs.enqueue(job)).created).toBe(false);
      const claimedA = await a.jobs.claim({ kind: "revoke", owner: "A", leaseMs: 60_000, limit: 10 });
      const claimedB = await b.jobs.claim({ kind: "revoke", owner: "B", leaseMs: 60_000, limit: 10 });
      expect(claimedA.map((j) => j.key)).toEqual(["revoke:k1"]);
      expect(claimedB).toEqual([]);
      // Only the owner can finish it.
      expect(await b.jobs.finish(claimedA[0]?.id as number, "B", { state: "done", outcome: "revoked" })).toBe(
        false,
      );
      expect(await a.jobs.finish(claimedA[0]?.id as number, "A", { state: "done", outcome: "revoked" })).toBe(
        true,
      );
      await a.close();
      await b.close();
    });

    it("enqueueing many at once: in order, one job per key, a key already held or given twice is not new", async () => {
      const store = await open();
      const job = (key: string, priority = 10) => ({
        kind: "revoke",
        key,
        queue: "github",
        payload: { key },
        maxAttempts: 3,
        priority,
      });
      const held = await store.jobs.enqueue(job("revoke:held"));
      const many = await store.transaction((tx) =>
        tx.jobs.enqueueMany([job("revoke:a"), job("revoke:held", 0), job("revoke:b"), job("revoke:a")]),
      );
      expect(many.map((m) => [m.job.key, m.created])).toEqual([
        ["revoke:a", true],
        ["revoke:held", false],
        ["revoke:b", true],
        ["revoke:a", false],
      ]);
      expect(many[3]?.job.id).toBe(many[0]?.job.id);
      // The waiting job asked for more urgently takes that priority, as with enqueue.
      expect(many[1]?.job.id).toBe(held.job.id);
      expect(many[1]?.job.priority).toBe(0);
      expect((await store.jobs.list({ kind: "revoke" })).map((j) => j.key).sort()).toEqual([
        "revoke:a",
        "revoke:b",
        "revoke:held",
      ]);
      expect([...(await store.jobs.byKeys(["revoke:a", "revoke:b", "revoke:none"])).keys()].sort()).toEqual([
        "revoke:a",
        "revoke:b",
      ]);
      await store.close();
    });

    it("claims racing from two connections split the due jobs: each taken exactly once", async () => {
      const target = engine.target();
      const a = await engine.open(target);
      const b = await engine.open(target);
      for (let i = 0; i < 60; i++)
        await a.jobs.enqueue({
          kind: "revoke",
          key: `revoke:r${i}`,
          queue: "github",
          payload: {},
          maxAttempts: 3,
        });
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).jobs.claim({ kind: "revoke", owner: `W${i}`, leaseMs: 60_000, limit: 5 }),
        ),
      );
      const ids = claims.flat().map((j) => j.id);
      expect(ids).toHaveLength(60);
      expect(new Set(ids).size).toBe(60);
      await a.close();
      await b.close();
    });

    it("a claim that starts its jobs counts their attempts in the same statement", async () => {
      const store = await open();
      const counted = countStatements(store.db);
      const jobs = new JobTable(counted.db, store.clock, engine.name);
      for (const key of ["alert:a", "alert:b"])
        await store.jobs.enqueue({ kind: "alert", key, queue: "q", payload: {}, maxAttempts: 3 });
      const claimed = await jobs.claim({
        kind: "alert",
        owner: "w",
        leaseMs: 60_000,
        limit: 1,
        startAttempts: true,
      });
      expect(counted.count()).toBe(1);
      // The record says the attempts before this one, as claim and startAttempt would leave it.
      expect(claimed.map((j) => j.attempts)).toEqual([0]);
      expect((await store.jobs.byId(claimed[0]?.id as number))?.attempts).toBe(1);
      // Without it, a claim counts nothing: startAttempt does, once the job really starts.
      const [other] = await jobs.claim({ kind: "alert", owner: "w", leaseMs: 60_000, limit: 1 });
      expect((await store.jobs.byId(other?.id as number))?.attempts).toBe(0);
      await store.close();
    });

    it("when to look at the queue next: the earliest due job or expiring lease, in one statement", async () => {
      const now = new Date("2026-11-28T10:00:00Z");
      const store = await open({ clock: () => now });
      const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
      const counted = countStatements(store.db);
      const jobs = new JobTable(counted.db, () => now, engine.name);
      expect(await jobs.nextWake("work")).toBeUndefined();
      for (const [key, ms] of [
        ["work:a", 60_000],
        ["work:b", 30_000],
        ["other:c", 1_000],
      ] as const)
        await store.jobs.enqueue({
          kind: "work",
          key,
          queue: "q",
          payload: {},
          maxAttempts: 3,
          runAfter: at(ms),
        });
      const before = counted.count();
      expect(await jobs.nextWake("work")).toBe(at(1_000));
      expect(counted.count() - before).toBe(1);
      // Jobs left to a batch that runs elsewhere do not count; a lease that runs out earlier does.
      expect(await jobs.nextWake("work", undefined, ["other:"])).toBe(at(30_000));
      await store.jobs.enqueue({ kind: "work", key: "work:d", queue: "q", payload: {}, maxAttempts: 3 });
      await store.jobs.claim({ kind: "work", owner: "A", leaseMs: 10_000, limit: 1 });
      expect(await jobs.nextWake("work", undefined, ["other:"])).toBe(at(10_000));
      expect(await jobs.nextWake("work", { only: ["elsewhere"] })).toBeUndefined();
      await store.close();
    });

    it("a job whose lease ran out can be taken over; finishing erases its sealed value", async () => {
      let now = new Date("2026-11-28T10:00:00Z");
      const store = await open({ clock: () => now });
      const { job } = await store.jobs.enqueue({
        kind: "revoke",
        key: "revoke:k2",
        queue: "gitlab",
        payload: {},
        sealed: Buffer.from("ciphertext"),
        maxAttempts: 3,
      });
      expect((await store.jobs.byId(job.id))?.sealed?.toString()).toBe("ciphertext");
      expect((await store.jobs.claim({ kind: "revoke", owner: "A", leaseMs: 1000, limit: 5 })).length).toBe(
        1,
      );
      expect((await store.jobs.claim({ kind: "revoke", owner: "B", leaseMs: 1000, limit: 5 })).length).toBe(
        0,
      );
      now = new Date(now.getTime() + 1001);
      const taken = await store.jobs.claim({ kind: "revoke", owner: "B", leaseMs: 1000, limit: 5 });
      expect(taken.map((j) => j.owner)).toEqual(["B"]);
      expect(await store.jobs.finish(job.id, "A", { state: "dead", error: "x" })).toBe(false);
      expect(await store.jobs.finish(job.id, "B", { state: "dead", error: "gave up" })).toBe(true);
      expect(await store.jobs.byId(job.id)).toMatchObject({
        state: "dead",
        sealed: null,
        lastError: "gave up",
      });
      expect(await store.jobs.counts("revoke")).toMatchObject({ dead: 1, pending: 0 });
      expect(await store.insights.queueHealth("revoke")).toMatchObject({
        dead: 1,
        pending: 0,
        oldestPending: null,
      });
      await store.close();
    });

    it("a transaction is all or nothing, and its store sees its own writes", async () => {
      const store = await open();
      await expect(
        store.transaction(async (tx) => {
          await tx.audit.record({ action: "test.inside" });
          expect((await tx.audit.list()).map((e) => e.action)).toEqual(["test.inside"]);
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      expect(await store.audit.list()).toEqual([]);
      await store.close();
    });
  });
});

describe.skipIf(postgresMissing)(
  `PostgreSQL only${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    const pg = engines("store_pg")[1] as Engine;
    afterAll(pg.cleanup);

    it("two replicas migrating the same empty database at the same moment: each migration runs once", async () => {
      const target = pg.target();
      const [a, b] = await Promise.all([pg.open(target), pg.open(target)]);
      const versions = await sql<{
        version: number;
      }>`SELECT version FROM schema_migrations ORDER BY version`.execute(a.db);
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      await a.close();
      await b.close();
    });

    it("refuses to start without LEAKWARDEN_KEY, and never falls back to a key file", async () => {
      await expect(pg.open(pg.target(), { env: {} })).rejects.toThrow(
        /LEAKWARDEN_KEY is required with PostgreSQL/,
      );
    });

    it("LEAKWARDEN_DATABASE_URL selects PostgreSQL; --db (a path) still means a SQLite file", async () => {
      const target = pg.target() as { url: string; schema: string };
      const store = await openStore({
        schema: target.schema,
        env: { LEAKWARDEN_DATABASE_URL: target.url, LEAKWARDEN_KEY: TEST_KEY },
      });
      expect(store.engine).toBe("postgres");
      expect(store.sqlite).toBeUndefined();
      await store.close();
      const file = await openStore({
        path: join(dir.path, "explicit.db"),
        env: { LEAKWARDEN_DATABASE_URL: target.url },
      });
      expect(file.engine).toBe("sqlite");
      await file.close();
      await expect(openStore({ env: { LEAKWARDEN_DATABASE_URL: "mysql://x" } })).rejects.toThrow(
        /must be a postgres:\/\/ URL/,
      );
    });
  },
);

describe("the secret box", () => {
  const t = tokens(11);
  const value = t.githubPat();

  it("seals with AES-256-GCM bound to the job key; the key file is private and made once", async () => {
    const path = freshPath();
    await (await openStore({ path, env: {} })).close();
    const box = SecretBox.forDatabase(path, {});
    const sealed = box.seal(value, "revoke:a");
    expect(sealed.includes(value)).toBe(false);
    expect(box.open(sealed, "revoke:a").reveal()).toBe(value);
    expect(() => box.open(sealed, "revoke:b")).toThrow(/does not open with the current key/);
    expect(mode(keyFilePath(path))).toBe(0o600);
    // Another process (another box) reads the same key.
    expect(SecretBox.forDatabase(path, {}).open(sealed, "revoke:a").reveal()).toBe(value);
    writeFileSync(keyFilePath(path), `${Buffer.alloc(32, 7).toString("base64")}\n`);
    expect(() => SecretBox.forDatabase(path, {}).open(sealed, "revoke:a")).toThrow(/key file changed/);
  });

  it("rotates: LEAKWARDEN_KEY_PREVIOUS opens what the old key sealed, the new key seals", () => {
    const oldKey = "01".repeat(32);
    const newKey = "02".repeat(32);
    const sealedBefore = SecretBox.forSharedDatabase({ LEAKWARDEN_KEY: oldKey }).seal(value, "revoke:a");
    const rotated = SecretBox.forSharedDatabase({ LEAKWARDEN_KEY: newKey, LEAKWARDEN_KEY_PREVIOUS: oldKey });
    expect(rotated.open(sealedBefore, "revoke:a").reveal()).toBe(value);
    const sealedAfter = rotated.seal(value, "revoke:a");
    expect(
      SecretBox.forSharedDatabase({ LEAKWARDEN_KEY: newKey }).open(sealedAfter, "revoke:a").reveal(),
    ).toBe(value);
    // Without the previous key, the old ciphertext is refused with a reason, never read with the wrong key.
    expect(() =>
      SecretBox.forSharedDatabase({ LEAKWARDEN_KEY: newKey }).open(sealedBefore, "revoke:a"),
    ).toThrow(/does not open with the current key/);
    expect(() => rotated.open(sealedBefore, "revoke:b")).toThrow(/opens with neither LEAKWARDEN_KEY nor/);
  });

  it("takes LEAKWARDEN_KEY as hex or base64, and refuses anything else", () => {
    const hex = "ab".repeat(32);
    const sealed = SecretBox.forDatabase("unused", { LEAKWARDEN_KEY: hex }).seal(value, "k");
    const base64 = Buffer.from(hex, "hex").toString("base64");
    expect(SecretBox.forDatabase("unused", { LEAKWARDEN_KEY: base64 }).open(sealed, "k").reveal()).toBe(
      value,
    );
    expect(() => SecretBox.forDatabase("unused", { LEAKWARDEN_KEY: "short" })).toThrow(
      /LEAKWARDEN_KEY must hold a 32-byte key/,
    );
  });
});
