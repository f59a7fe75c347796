// `leakwarden audit list`: who did what, when: registrations, triage, every revocation attempt and outcome.
import { type Command, parseCount, parseFlags, UsageError } from "./command.js";
import { summariseDetail } from "./findings.js";
import { DB_FLAG, DB_HELP, openCliStore, shortTime, withStore } from "./store-access.js";
import { colorEnabled, printable, style, table } from "./terminal.js";

const HELP = `Usage: leakwarden audit list [--limit N] [--action A] [--json]

The audit log: every registration, triage decision, revocation request,
attempt, retry and outcome, with who did it and when. It is append-only, and
names tokens by preview and hash, never by value.

Options
  --limit N       the newest N entries (default: 50; --json prints all unless given)
  --action A      one action (revoke.dead) or a family (revoke.)
  --json          machine-readable output
${DB_HELP}

Actions recorded
  registry.add, registry.import, registry.update, registry.remove, registry.mint
  finding.resolve
  revoke.enqueue, revoke.request, revoke.attempt, revoke.retry, revoke.resume,
  revoke.revoked, revoke.already-revoked, revoke.dead, revoke.rearm, revoke.cancel
  backfill.queue, backfill.start, backfill.done, backfill.skip, backfill.fail

Examples
  leakwarden audit list
  leakwarden audit list --action revoke.dead
  leakwarden audit list --json --action revoke. > revocations.json
`;

const FLAGS = {
  limit: { type: "string" },
  action: { type: "string" },
  json: { type: "boolean" },
  ...DB_FLAG,
} as const;

export const auditCommand: Command = {
  name: "audit",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("audit", args, FLAGS);
    const [action, ...rest] = positionals;
    if (action !== undefined && action !== "list")
      throw new UsageError(`unknown action "${action}"; use "audit list"`, "audit");
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, "audit");
    const limit =
      values.limit === undefined && values.json
        ? undefined
        : parseCount(values.limit, "--limit", "audit", 50);
    return withStore(await openCliStore(values, io, { create: false }), async (store) => {
      const entries = await store.audit.list({ limit, action: values.action });
      if (values.json) {
        io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return 0;
      }
      if (entries.length === 0) {
        io.stdout.write("The audit log is empty.\n");
        return 0;
      }
      const s = style(colorEnabled(io.stdout));
      const rows = [["AT", "ACTOR", "ACTION", "SUBJECT", "PROVIDER", "DETAIL"].map(s.bold)];
      for (const e of entries) {
        const colour =
          e.action === "revoke.dead"
            ? s.red
            : e.action.startsWith("revoke.revoked")
              ? s.green
              : (t: string) => t;
        // Details hold provider replies and file names: never raw to a terminal.
        rows.push([
          shortTime(e.at),
          printable(e.actor),
          colour(printable(e.action)),
          printable(e.subject ?? "-"),
          printable(e.provider ?? "-"),
          printable(
            [typeof e.detail?.preview === "string" ? e.detail.preview : "", summariseDetail(e.detail)]
              .filter(Boolean)
              .join(" "),
          ),
        ]);
      }
      io.stdout.write(`${table(rows)}\n`);
      return 0;
    });
  },
};
