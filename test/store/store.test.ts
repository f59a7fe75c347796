import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { secretHash } from "../../src/scan/secret.js";
import type { PublicFinding } from "../../src/scan/types.js";
import { openDatabase } from "../../src/store/database.js";
import { openStore } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { keyFilePath, SecretBox } from "../../src/store/secret-box.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

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
  it("creates the folder and a private file in WAL mode, with private -wal and -shm files", () => {
    const path = freshPath();
    const store = openStore({ path, env: {} });
    store.tokens.insert({ secretHash: secretHash("a"), preview: "…", provider: "github" });
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file)).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    store.close();
  });

  it("runs the numbered migrations once and records the version", () => {
    const path = freshPath();
    openStore({ path, env: {} }).close();
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
    ]);
    db.close();
    // Opening again changes nothing and loses nothing.
    const store = openStore({ path, env: {} });
    store.audit.record({ action: "test.mark" });
    store.close();
    const again = openStore({ path, env: {} });
    expect(again.audit.list().map((e) => e.action)).toEqual(["test.mark"]);
    again.close();
  });

  it("brings a database made by an older version up to date, keeping its data", () => {
    const path = freshPath();
    const old = openDatabase(path, { migrations: MIGRATIONS.slice(0, 1) });
    old
      .prepare("INSERT INTO audit (at, actor, action) VALUES ('2026-01-01T00:00:00.000Z', 'me', 'test.old')")
      .run();
    old.close();
    const store = openStore({ path, env: {} });
    expect(store.db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(store.deliveries.record("d1", "push", "acme/app")).toBe(true);
    expect(store.deliveries.record("d1", "push", "acme/app")).toBe(false);
    expect(store.audit.list().map((e) => e.action)).toEqual(["test.old"]);
    store.close();
  });

  it("refuses a database from a newer leakwarden, and a mis-numbered migration list", () => {
    const path = freshPath();
    openStore({ path, env: {} }).close();
    const db = new Database(path);
    db.pragma("user_version = 99");
    db.close();
    expect(() => openStore({ path, env: {} })).toThrow(/schema version 99, newer than this leakwarden knows/);
    // Refused before anything changed it: a newer leakwarden's file keeps its journal mode.
    const rollback = freshPath();
    openStore({ path: rollback, env: {} }).close();
    const newer = new Database(rollback);
    newer.pragma("journal_mode = DELETE");
    newer.pragma("user_version = 99");
    newer.close();
    expect(() => openStore({ path: rollback, env: {} })).toThrow(/newer than this leakwarden knows/);
    const after = new Database(rollback, { readonly: true });
    expect(after.pragma("journal_mode", { simple: true })).toBe("delete");
    after.close();
    expect(() =>
      openDatabase(freshPath(), { migrations: [{ version: 2, name: "skipped one", sql: "" }] }),
    ).toThrow(/is number 2, expected 1/);
  });

  it("refuses a database or key file that others can read or write, or that another user owns, as ssh does", () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "", { mode: 0o644 });
    chmodSync(path, 0o644);
    expect(() => openStore({ path, env: {} })).toThrow(
      `the database "${path}" can be read or written by other users (mode 0644); fix it with: chmod 600 "${path}"`,
    );
    chmodSync(path, 0o600);
    const store = openStore({ path, env: {} });
    // Another user got there first with a key they know.
    writeFileSync(keyFilePath(path), `${Buffer.alloc(32, 7).toString("base64")}\n`, { mode: 0o666 });
    chmodSync(keyFilePath(path), 0o666);
    expect(() => store.box.seal("value", "k")).toThrow(
      /the key file ".*" can be read or written by other users/,
    );
    store.close();
  });

  it.runIf(process.getuid?.() === 0)("refuses a database that another user owns", () => {
    const path = freshPath();
    openStore({ path, env: {} }).close();
    chownSync(path, 4242, 4242);
    expect(() => openStore({ path, env: {} })).toThrow(
      /the database ".*" is owned by another user \(uid 4242\).*chown 0 "/,
    );
  });

  it("says how to create a database when a command needs one that is missing", () => {
    expect(() => openStore({ path: join(dir.path, "none", "x.db"), env: {}, create: false })).toThrow(
      /no leakwarden database at .*'leakwarden scan --record'/,
    );
  });

  it("takes its path from LEAKWARDEN_DB", () => {
    const path = freshPath();
    const store = openStore({ env: { LEAKWARDEN_DB: path } });
    expect(store.path).toBe(path);
    store.close();
  });
});

describe("tables", () => {
  const store = openStore({ path: freshPath(), env: {}, actor: "tester" });
  afterAll(() => store.close());

  it("the audit log is append-only", () => {
    const entry = store.audit.record({ action: "registry.add", subject: "token:1", detail: { a: 1 } });
    expect(entry).toMatchObject({ actor: "tester", action: "registry.add", detail: { a: 1 } });
    expect(() => store.db.prepare("UPDATE audit SET action = 'x'").run()).toThrow(/append-only/);
    expect(() => store.db.prepare("DELETE FROM audit").run()).toThrow(/append-only/);
    expect(store.audit.list({ action: "registry." }).length).toBe(1);
    expect(store.audit.list({ action: "registry" }).length).toBe(0);
  });

  it("a finding is unique by fingerprint and location: a re-scan updates it and keeps its triage", () => {
    const first = store.findings.record(finding());
    expect(first.created).toBe(true);
    store.findings.resolve(first.finding.id, "accepted-risk", "test fixture");
    const again = store.findings.record(finding({ confidence: "medium" }));
    expect(again.created).toBe(false);
    expect(again.finding).toMatchObject({ id: first.finding.id, status: "resolved", confidence: "medium" });
    const moved = store.findings.record(finding({ line: 9 }));
    expect(moved.created).toBe(true);
    const otherSource = store.findings.record(finding(), "acme/app");
    expect(otherSource.created).toBe(true);
    expect(store.findings.list().length).toBe(3);
  });

  it("a token is registered once, and never by value", () => {
    const hash = secretHash("t1");
    store.tokens.insert({ secretHash: hash, preview: "…t1", provider: "github", scopes: ["a", "b"] });
    expect(() => store.tokens.insert({ secretHash: hash, preview: "…t1", provider: "github" })).toThrow(
      /already registered as #/,
    );
    expect(store.tokens.byHash(hash)?.scopes).toEqual(["a", "b"]);
    expect(() =>
      store.db
        .prepare(
          "INSERT INTO tokens (secret_hash, preview, provider, created_at, registered_at) VALUES (?,?,?,?,?)",
        )
        .run("ghp_plaintext", "…", "github", "x", "x"),
    ).toThrow(/CHECK constraint/);
  });
});

describe("jobs", () => {
  it("enqueueing is idempotent by key, and two connections never claim the same job", () => {
    const path = freshPath();
    const a = openStore({ path, env: {} });
    const b = openStore({ path, env: {} });
    const job = { kind: "revoke", key: "revoke:k1", queue: "github", payload: { x: 1 }, maxAttempts: 3 };
    expect(a.jobs.enqueue(job).created).toBe(true);
    expect(b.jobs.enqueue(job).created).toBe(false);
    const claimedA = a.jobs.claim({ kind: "revoke", owner: "A", leaseMs: 60_000, limit: 10 });
    const claimedB = b.jobs.claim({ kind: "revoke", owner: "B", leaseMs: 60_000, limit: 10 });
    expect(claimedA.map((j) => j.key)).toEqual(["revoke:k1"]);
    expect(claimedB).toEqual([]);
    // Only the owner can finish it.
    expect(b.jobs.finish(claimedA[0]?.id as number, "B", { state: "done", outcome: "revoked" })).toBe(false);
    expect(a.jobs.finish(claimedA[0]?.id as number, "A", { state: "done", outcome: "revoked" })).toBe(true);
    a.close();
    b.close();
  });

  it("a job whose lease ran out can be taken over; finishing erases its sealed value", () => {
    let now = new Date("2026-11-28T10:00:00Z");
    const store = openStore({ path: freshPath(), env: {}, clock: () => now });
    const { job } = store.jobs.enqueue({
      kind: "revoke",
      key: "revoke:k2",
      queue: "gitlab",
      payload: {},
      sealed: Buffer.from("ciphertext"),
      maxAttempts: 3,
    });
    expect(store.jobs.claim({ kind: "revoke", owner: "A", leaseMs: 1000, limit: 5 }).length).toBe(1);
    expect(store.jobs.claim({ kind: "revoke", owner: "B", leaseMs: 1000, limit: 5 }).length).toBe(0);
    now = new Date(now.getTime() + 1001);
    const taken = store.jobs.claim({ kind: "revoke", owner: "B", leaseMs: 1000, limit: 5 });
    expect(taken.map((j) => j.owner)).toEqual(["B"]);
    expect(store.jobs.finish(job.id, "A", { state: "dead", error: "x" })).toBe(false);
    expect(store.jobs.finish(job.id, "B", { state: "dead", error: "gave up" })).toBe(true);
    expect(store.jobs.byId(job.id)).toMatchObject({ state: "dead", sealed: null, lastError: "gave up" });
    store.close();
  });
});

describe("the secret box", () => {
  const t = tokens(11);
  const value = t.githubPat();

  it("seals with AES-256-GCM bound to the job key; the key file is private and made once", () => {
    const path = freshPath();
    openStore({ path, env: {} }).close();
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
