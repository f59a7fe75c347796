// `leakwarden db status|migrate`: the database's schema version, and bringing it up to date, on SQLite or
// PostgreSQL.
import { existsSync } from "node:fs";
import { copyStore } from "../store/copy.js";
import { dbPathFrom } from "../store/database.js";
import { openStore } from "../store/index.js";
import { databaseStatus, migrateDatabase } from "../store/schema-admin.js";
import { keyFilePath } from "../store/secret-box.js";
import { describeTarget, targetFrom } from "../store/target.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const HELP = `Usage: leakwarden db status [--json]
       leakwarden db migrate
       leakwarden db copy --to postgres://… [--db FILE]

The database every command and 'leakwarden serve' use:
  - PostgreSQL when LEAKWARDEN_DATABASE_URL is set (postgres://user:pass@host:5432/db),
    for several 'serve' replicas on one database;
  - else the SQLite file --db FILE, LEAKWARDEN_DB, or .leakwarden/leakwarden.db.

Its schema is a numbered list of migrations, one list for both engines. Every
command applies the pending ones when it opens the database; several replicas
starting at once take turns (a PostgreSQL advisory lock), and one that finds a
schema newer than it knows refuses to start: upgrade it first.

Actions
  status          the schema version, the newest this leakwarden knows, and what
                  is pending; exit code 1 when migrations are pending
  migrate         apply the pending migrations now (before a deploy, say)
  copy            copy the SQLite store (--db, else $LEAKWARDEN_DB) into an empty
                  PostgreSQL database: tokens, findings, jobs, audit, deliveries,
                  breach issues and live-check verdicts, with their ids; the row
                  counts are compared, and a copy that fails keeps nothing. Stop
                  'leakwarden serve' first. Needs LEAKWARDEN_KEY: values sealed for
                  queued revocations (with the SQLite store's key file, or the
                  same LEAKWARDEN_KEY) are sealed again with it.

Options
  --db FILE       a SQLite file (wins over LEAKWARDEN_DATABASE_URL)
  --json          machine-readable output (status)
  --to URL        the PostgreSQL database to copy into (copy)

Examples
  leakwarden db status
  LEAKWARDEN_DATABASE_URL=postgres://leakwarden@db.internal/leakwarden leakwarden db migrate
  LEAKWARDEN_KEY=... leakwarden db copy --db .leakwarden/leakwarden.db --to postgres://leakwarden@db.internal/leakwarden
`;

const FLAGS = { db: { type: "string" }, json: { type: "boolean" }, to: { type: "string" } } as const;

export const dbCommand: Command = {
  name: "db",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("db", args, FLAGS);
    const [action, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, "db");
    const target = targetFrom({ path: values.db, env: io.env });
    if (action === "status" || action === undefined) {
      const status = await databaseStatus(target);
      if (values.json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else {
        io.stdout.write(
          `${status.engine} ${status.where}: schema version ${status.current}, this leakwarden knows ${status.latest}\n`,
        );
        if (status.current > status.latest)
          io.stdout.write(
            "newer than this leakwarden: upgrade leakwarden before running it on this database\n",
          );
        for (const m of status.pending) io.stdout.write(`  pending: ${m.version} ${m.name}\n`);
        if (status.pending.length === 0 && status.current <= status.latest) io.stdout.write("up to date\n");
      }
      return status.pending.length > 0 || status.current > status.latest ? 1 : 0;
    }
    if (action === "migrate") {
      const ran = await migrateDatabase(target);
      io.stdout.write(
        ran.length === 0
          ? `${describeTarget(target)}: already up to date\n`
          : `${describeTarget(target)}: applied ${ran.length === 1 ? "migration" : "migrations"} ${ran.join(", ")}\n`,
      );
      return 0;
    }
    if (action === "copy") {
      if (!values.to) throw new UsageError("db copy needs --to postgres://…", "db");
      const to = targetFrom({ url: values.to, env: {} });
      const fromPath = values.db ?? dbPathFrom(io.env);
      // The SQLite store's values are sealed with its key file when it has one, else with LEAKWARDEN_KEY.
      const sourceEnv = existsSync(keyFilePath(fromPath)) ? { ...io.env, LEAKWARDEN_KEY: undefined } : io.env;
      const source = await openStore({ path: fromPath, env: sourceEnv, create: false });
      try {
        const target = await openStore({ url: values.to, env: io.env });
        try {
          const counts = await copyStore(source, target, (line) =>
            io.stderr.write(`leakwarden db copy: ${line}\n`),
          );
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          io.stdout.write(
            `copied ${total} rows from ${fromPath} into ${describeTarget(to)}; row counts match\n`,
          );
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
      return 0;
    }
    throw new UsageError(`unknown action "${action}"; use "db status", "db migrate" or "db copy"`, "db");
  },
};
