// The schema, as an ordered list of numbered migrations, one source for both engines: portable SQL, with the
// few spellings that differ asked of the dialect (dialect.ts). A SQLite database remembers how far it got in
// `PRAGMA user_version`, a PostgreSQL one in the `schema_migrations` table (postgres.ts). Append, never edit.

import type { Database } from "better-sqlite3";
import { UserError } from "../errors.js";
import { type SchemaDialect, SQLITE } from "./dialect.js";

export interface Migration {
  version: number;
  name: string;
  /** Portable SQL; a function when it needs a spelling that differs between the engines. */
  sql: string | ((dialect: SchemaDialect) => string);
}

/** The SQL of a migration for one engine. */
export function migrationSql(migration: Migration, dialect: SchemaDialect): string {
  return typeof migration.sql === "string" ? migration.sql : migration.sql(dialect);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "registry, findings, jobs and audit",
    sql: (d) => `
      -- The registry: tokens the organisation issued, known by the SHA-256 of their value, never the value.
      CREATE TABLE tokens (
        id               ${d.id},
        secret_hash      TEXT NOT NULL UNIQUE CHECK (substr(secret_hash, 1, 7) = 'sha256:' AND length(secret_hash) = 71),
        preview          TEXT NOT NULL,
        provider         TEXT NOT NULL,
        rule_id          TEXT,
        org              TEXT,
        authorization_id TEXT,
        owner            TEXT,
        name             TEXT,
        scopes           TEXT,
        all_orgs         INTEGER NOT NULL DEFAULT 0,
        minted           INTEGER NOT NULL DEFAULT 0,
        created_at       TEXT NOT NULL,
        expires_at       TEXT,
        registered_at    TEXT NOT NULL,
        revoked_at       TEXT
      );

      -- One row per leak location; a re-scan updates the row it found before.
      CREATE TABLE findings (
        id            ${d.id},
        fingerprint   TEXT NOT NULL,
        source        TEXT NOT NULL DEFAULT '',
        location      TEXT NOT NULL,
        rule_id       TEXT NOT NULL,
        provider      TEXT NOT NULL,
        description   TEXT NOT NULL,
        severity      TEXT NOT NULL,
        confidence    TEXT NOT NULL,
        encoding      TEXT NOT NULL,
        file          TEXT NOT NULL,
        line          INTEGER NOT NULL,
        col           INTEGER NOT NULL,
        end_line      INTEGER NOT NULL,
        end_col       INTEGER NOT NULL,
        commit_sha    TEXT,
        author        TEXT,
        committed_at  TEXT,
        redacted      TEXT NOT NULL,
        secret_hash   TEXT NOT NULL CHECK (substr(secret_hash, 1, 7) = 'sha256:'),
        status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'revoked', 'resolved')),
        resolution    TEXT CHECK (resolution IN ('false-positive', 'accepted-risk', 'revoked-manually')),
        note          TEXT,
        first_seen_at TEXT NOT NULL,
        last_seen_at  TEXT NOT NULL,
        times_seen    INTEGER NOT NULL DEFAULT 1,
        resolved_at   TEXT,
        UNIQUE (fingerprint, source, location)
      );
      CREATE INDEX findings_by_hash ON findings (secret_hash, status);
      CREATE INDEX findings_by_status ON findings (status, provider);

      -- The durable queue. A job is written before any call is made; its key makes it idempotent.
      CREATE TABLE jobs (
        id           ${d.id},
        kind         TEXT NOT NULL,
        key          TEXT NOT NULL UNIQUE,
        queue        TEXT NOT NULL,
        payload      TEXT NOT NULL,
        sealed       ${d.blob},
        state        TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead', 'cancelled')),
        outcome      TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        run_after    TEXT NOT NULL,
        owner        TEXT,
        lease_until  TEXT,
        last_error   TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        finished_at  TEXT
      );
      CREATE INDEX jobs_due ON jobs (kind, state, run_after);

      -- Who did what, when. Append-only.
      CREATE TABLE audit (
        id          ${d.id},
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        subject     TEXT,
        provider    TEXT,
        secret_hash TEXT,
        detail      TEXT
      );
      CREATE INDEX audit_by_hash ON audit (secret_hash);
      CREATE INDEX audit_by_action ON audit (action, provider, at);
      ${d.appendOnly("audit")}
    `,
  },
  {
    version: 2,
    name: "the GitHub App: deliveries and breach issues",
    sql: `
      -- Webhook deliveries already handled (X-GitHub-Delivery): a redelivery does nothing.
      CREATE TABLE deliveries (
        id          TEXT PRIMARY KEY,
        event       TEXT NOT NULL,
        repository  TEXT,
        job_id      INTEGER,
        received_at TEXT NOT NULL
      );

      -- One breach issue per push or workflow run attempt. The row is written before the issue is opened,
      -- so that a crash in between is noticed and the issue is looked for instead of opened twice.
      CREATE TABLE breaches (
        key          TEXT PRIMARY KEY,
        repository   TEXT NOT NULL,
        installation BIGINT NOT NULL,
        issue_number INTEGER,
        issue_url    TEXT,
        created_at   TEXT NOT NULL
      );

      -- The tokens each breach issue reports, so that a revocation's outcome is commented there once.
      CREATE TABLE breach_tokens (
        breach_key   TEXT NOT NULL REFERENCES breaches (key),
        secret_hash  TEXT NOT NULL CHECK (substr(secret_hash, 1, 7) = 'sha256:'),
        preview      TEXT NOT NULL,
        description  TEXT NOT NULL,
        commented_at TEXT,
        PRIMARY KEY (breach_key, secret_hash)
      );
      CREATE INDEX breach_tokens_by_hash ON breach_tokens (secret_hash);
    `,
  },
  {
    version: 3,
    name: "live checks: the last verdict on each token",
    sql: `
      -- What the token's issuer last said about it, by hash; reused until expires_at. Never the token.
      CREATE TABLE validations (
        secret_hash TEXT PRIMARY KEY CHECK (substr(secret_hash, 1, 7) = 'sha256:'),
        provider    TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('live', 'inactive', 'unknown')),
        identity    TEXT,
        scopes      TEXT,
        detail      TEXT,
        checked_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: "job priorities",
    sql: `
      -- Lower runs first: live pushes and run logs (0) go ahead of bulk work such as a backfill (10).
      ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX jobs_by_priority ON jobs (kind, state, priority, run_after);
    `,
  },
  {
    version: 5,
    name: "console: findings searchable by rule, repository and date, and counted by severity and repository",
    sql: `
      CREATE INDEX findings_by_rule ON findings (rule_id);
      CREATE INDEX findings_by_source ON findings (source, status);
      CREATE INDEX findings_by_severity ON findings (status, severity);
      CREATE INDEX findings_by_first_seen ON findings (first_seen_at);
    `,
  },
  {
    version: 6,
    name: "breach issues list their tokens in the order reported, on both engines",
    sql: (d) => `
      ALTER TABLE breach_tokens ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
      ${d.name === "sqlite" ? "UPDATE breach_tokens SET position = rowid;" : ""}
    `,
  },
  {
    version: 7,
    name: "breach issues routed to a security repository, and the public notice after revocation",
    sql: `
      -- Where the breach issue lives when it is not the leaking repository (a private security repository);
      -- NULL: the leaking repository itself, or no issue (withheld: a public repository without one).
      ALTER TABLE breaches ADD COLUMN issue_repository TEXT;
      -- The short public notice once every token is revoked: NULL not asked, 'pending', 'posted'.
      ALTER TABLE breaches ADD COLUMN notice TEXT CHECK (notice IN ('pending', 'posted'));
      CREATE INDEX findings_by_fingerprint ON findings (fingerprint, source, status);
    `,
  },
  {
    version: 8,
    name: "app: backfill progress per repository, and the latest scan of each pull request",
    sql: `
      -- One row per backfill job: what /healthz and the audit log report. Counts only, never a token.
      CREATE TABLE backfills (
        job_id       INTEGER PRIMARY KEY,
        repository   TEXT NOT NULL,
        installation INTEGER,
        state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
        commits      INTEGER NOT NULL DEFAULT 0,
        findings     INTEGER NOT NULL DEFAULT 0,
        updated_at   TEXT NOT NULL
      );
      CREATE INDEX backfills_by_repository ON backfills (repository, state);
      -- The latest scan of each pull request (public, redacted findings) and the comment that shows it.
      CREATE TABLE pull_request_scans (
        key          TEXT PRIMARY KEY,
        repository   TEXT NOT NULL,
        number       INTEGER NOT NULL,
        installation INTEGER NOT NULL,
        head         TEXT NOT NULL,
        html_url     TEXT NOT NULL,
        findings     TEXT NOT NULL,
        comment_id   INTEGER,
        updated_at   TEXT NOT NULL
      );
    `,
  },
  {
    // Reserved: another branch adds migration 9. At the merge, its entry replaces this one (a no-op, so that a
    // database this branch migrated has nothing to undo).
    version: 9,
    name: "reserved",
    sql: "SELECT 1;",
  },
  {
    version: 10,
    name: "app: a backfill can be cancelled (its repository was removed from the installation)",
    sql: (d) =>
      d.name === "sqlite"
        ? `
      -- SQLite cannot change a CHECK constraint in place: the table is copied into one that allows 'cancelled'.
      CREATE TABLE backfills_next (
        job_id       INTEGER PRIMARY KEY,
        repository   TEXT NOT NULL,
        installation INTEGER,
        state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        commits      INTEGER NOT NULL DEFAULT 0,
        findings     INTEGER NOT NULL DEFAULT 0,
        updated_at   TEXT NOT NULL
      );
      INSERT INTO backfills_next (job_id, repository, installation, state, commits, findings, updated_at)
        SELECT job_id, repository, installation, state, commits, findings, updated_at FROM backfills;
      DROP TABLE backfills;
      ALTER TABLE backfills_next RENAME TO backfills;
      CREATE INDEX backfills_by_repository ON backfills (repository, state);
      CREATE INDEX backfills_by_installation ON backfills (installation, state);
    `
        : `
      ALTER TABLE backfills DROP CONSTRAINT backfills_state_check;
      ALTER TABLE backfills ADD CONSTRAINT backfills_state_check
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled'));
      CREATE INDEX backfills_by_installation ON backfills (installation, state);
    `,
  },
  {
    version: 11,
    name: "app: GitHub write pacing shared by every replica",
    sql: `
      -- One row per installation queue: when its next content-creating request to GitHub may go, and until when
      -- GitHub asked it to wait (Retry-After). Times in milliseconds since 1970 by the store's clock.
      CREATE TABLE write_pace (
        queue        TEXT PRIMARY KEY,
        next_at      BIGINT NOT NULL DEFAULT 0,
        paused_until BIGINT NOT NULL DEFAULT 0
      );
    `,
  },
];

export class MigrationError extends UserError {}

/** The message for a database that a newer leakwarden made. */
export function newerSchemaMessage(current: number, latest: number): string {
  return `the database is at schema version ${current}, newer than this leakwarden knows (${latest}); upgrade leakwarden`;
}

/** A migration list must be numbered 1, 2, 3, ... in order. */
export function assertNumbered(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new MigrationError(`migration "${m.name}" is number ${m.version}, expected ${i + 1}`);
  });
}

/** Refuses a database that a newer leakwarden made, before anything (WAL mode, a migration) changes it. */
export function assertNotNewer(db: Database, latest: number = MIGRATIONS.length): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > latest) throw new MigrationError(newerSchemaMessage(current, latest));
  return current;
}

/** Runs the migrations the database has not seen; returns the versions it ran. Safe against a concurrent opener. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  assertNumbered(migrations);
  const latest = migrations.length;
  const ran: number[] = [];
  const step = db.transaction((m: Migration) => {
    // Read inside the write lock: another process may have migrated since we looked.
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current >= m.version) return;
    db.exec(migrationSql(m, SQLITE));
    db.pragma(`user_version = ${m.version}`);
    ran.push(m.version);
  });
  const current = assertNotNewer(db, latest);
  for (const m of migrations.slice(current)) step.immediate(m);
  return ran;
}
