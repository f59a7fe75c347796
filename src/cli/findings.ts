// `leakwarden findings list|show|resolve`: the recorded findings, what was done about them, and triage.
import { revocationJob } from "../revoke/queue.js";
import { findingState, getFinding, resolveFinding } from "../revoke/triage.js";
import { type Secret, secretHash } from "../scan/secret.js";
import { FINDING_STATUSES, type FindingRecord, RESOLUTIONS } from "../store/findings.js";
import type { Store } from "../store/index.js";
import { LiveChecker, ttlFromEnv } from "../validate/checker.js";
import { validateSettings } from "../validate/settings.js";
import { describeValidation, viewOfValidation } from "../validate/view.js";
import { type Command, type Io, oneOfFlag, parseFlags, UsageError } from "./command.js";
import { describeRevocation } from "./revocation-runner.js";
import { readTokenIfGiven, TOKEN_ENV_FLAG } from "./secret-input.js";
import { DB_FLAG, DB_HELP, openCliStore, parseId, shortTime, withStore } from "./store-access.js";
import { colorEnabled, plural, printable, printableFields, type Style, style, table } from "./terminal.js";

const HELP = `Usage: leakwarden findings list [--status open|revoked|resolved] [--provider P] [--json]
       leakwarden findings show ID [--json]
       leakwarden findings resolve ID --as REASON [--note TEXT]
       leakwarden findings validate ID [--token-env VAR] [--json]

Findings are recorded by 'leakwarden scan --record' (or --revoke) and by the
GitHub App. A finding is open until its token is revoked or someone resolves it.

list      one line per finding: status, rule, redacted token, where, registry
          match and revocation
show      everything about one finding, with its token's audit history
resolve   close a finding: --as false-positive (not a real token),
          accepted-risk (a decision not to revoke), or revoked-manually (the
          token was revoked by hand: leakwarden cancels its own revocation and
          marks the token revoked)
validate  ask the token's own issuer now, read-only, whether it still works
          (see the README for what is sent where). The token is the one held
          (encrypted) for a queued revocation, else give it on stdin or with
          --token-env; it must hash to the finding's token. Exit status: 0
          inactive, 1 live or unknown, 2 error

Options
  --status S      open, revoked or resolved
  --provider P    azure-devops, github, ...
  --as REASON     false-positive, accepted-risk or revoked-manually
  --note TEXT     why, for the audit log
  --token-env VAR validate: read the token from environment variable VAR
  --json          machine-readable output
${DB_HELP}

Examples
  leakwarden findings list --status open
  leakwarden findings show 12
  leakwarden findings resolve 12 --as false-positive --note "test fixture"
  leakwarden findings validate 12 < leaked-token.txt
  leakwarden findings list --json | jq '.[] | select(.revocation.status == "failed")'
`;

const FLAGS = {
  status: { type: "string" },
  provider: { type: "string" },
  as: { type: "string" },
  note: { type: "string" },
  json: { type: "boolean" },
  ...TOKEN_ENV_FLAG,
  ...DB_FLAG,
} as const;

function location(f: FindingRecord): string {
  const where = `${f.file}:${f.line}:${f.column}`;
  const at = f.commit ? `${f.commit.slice(0, 12)} ${where}` : where;
  return f.source ? `${f.source}: ${at}` : at;
}

function statusText(f: FindingRecord, s: Style): string {
  if (f.status === "open") return s.red("open");
  if (f.status === "revoked") return s.green("revoked");
  return s.dim(`resolved: ${f.resolution}`);
}

async function lastValidation(store: Store, f: FindingRecord) {
  const record = await store.validations.get(f.secretHash);
  return record ? viewOfValidation(record) : null;
}

async function publicFinding(store: Store, f: FindingRecord) {
  return { ...f, ...(await findingState(store, f)), validation: await lastValidation(store, f) };
}

/** The finding's token: held sealed for a queued revocation, else given by the user and checked against its hash. */
async function tokenOf(
  store: Store,
  f: FindingRecord,
  values: { "token-env"?: string },
  io: Io,
): Promise<Secret> {
  const job = await revocationJob(store, f.secretHash);
  if (job?.sealed) return store.box.open(job.sealed, job.key);
  const given = await readTokenIfGiven(values, io, "findings", true);
  if (!given)
    throw new UsageError(
      "leakwarden holds no value for this token: give it on stdin or with --token-env",
      "findings",
    );
  if (secretHash(given.reveal()) !== f.secretHash)
    throw new UsageError(`the token given is not finding #${f.id}'s token (its hash differs)`, "findings");
  return given;
}

async function list(store: Store, findings: readonly FindingRecord[], s: Style): Promise<string> {
  if (findings.length === 0) return "No findings match.\n";
  const rows = [
    ["ID", "STATUS", "RULE", "TOKEN", "LOCATION", "REGISTRY", "REVOCATION", "LAST SEEN"].map(s.bold),
  ];
  for (const stored of findings) {
    const f = printableFields(stored); // file names and the rest come from scanned repositories
    const state = await findingState(store, f);
    rows.push([
      String(f.id),
      statusText(f, s),
      s.cyan(f.ruleId),
      f.redacted,
      location(f),
      state.registry
        ? `#${state.registry.id}${state.registry.name ? ` ${printable(state.registry.name)}` : ""}`
        : "-",
      describeRevocation(state.revocation, s),
      shortTime(f.lastSeenAt),
    ]);
  }
  const open = findings.filter((f) => f.status === "open").length;
  return `${table(rows)}\n\n${plural(findings.length, "finding")}, ${open} open\n`;
}

async function show(store: Store, stored: FindingRecord, s: Style): Promise<string> {
  const f = printableFields(stored); // file names and the rest come from scanned repositories
  const state = await findingState(store, f);
  const lines: [string, string][] = [
    ["rule", `${f.ruleId}: ${f.description} (${f.severity}, ${f.confidence} confidence)`],
    ["token", `${f.redacted}  ${s.dim(f.secretHash)}`],
    ["location", location(f) + (f.encoding === "plain" ? "" : s.dim(` via ${f.encoding}`))],
  ];
  if (f.commit)
    lines.push(["commit", `${f.commit}${f.author ? ` by ${f.author}` : ""}${f.date ? `, ${f.date}` : ""}`]);
  lines.push([
    "seen",
    `first ${shortTime(f.firstSeenAt)}, last ${shortTime(f.lastSeenAt)} (${plural(f.timesSeen, "scan")})`,
  ]);
  const registered = state.registry ? await store.tokens.byId(state.registry.id) : undefined;
  const token = registered && printableFields(registered);
  lines.push([
    "registry",
    token
      ? `#${token.id} ${[token.name, token.owner && `owner ${token.owner}`, token.org && `org ${token.org}`].filter(Boolean).join(", ")}`
      : "not registered",
  ]);
  const r = state.revocation && printableFields(state.revocation);
  lines.push([
    "revocation",
    r
      ? `${describeRevocation(r, s)}${r.provider ? ` via ${r.provider}` : ""}${r.jobId ? ` (job ${r.jobId})` : ""}${r.reason ? `: ${r.reason}` : ""}`
      : "none",
  ]);
  const validation = await lastValidation(store, f);
  if (validation)
    lines.push([
      "live check",
      `${describeValidation(validation, s)} ${s.dim(`(${shortTime(validation.checkedAt)})`)}`,
    ]);
  if (f.resolution)
    lines.push(["resolution", `${f.resolution}${f.note ? `: ${f.note}` : ""} (${shortTime(f.resolvedAt)})`]);
  const elsewhere = (await store.findings.list({ secretHash: f.secretHash })).filter((o) => o.id !== f.id);
  if (elsewhere.length > 0)
    lines.push(["same token", elsewhere.map((o) => `#${o.id} ${location(printableFields(o))}`).join("; ")]);
  const width = Math.max(...lines.map(([k]) => k.length));
  const out = [
    `${s.bold(`Finding #${f.id}`)}  ${statusText(f, s)}`,
    ...lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
  const history = await store.audit.list({ secretHash: f.secretHash });
  if (history.length > 0) {
    out.push("", s.bold("History"));
    const rows = history.map((e) => [
      `  ${shortTime(e.at)}`,
      printable(e.actor),
      printable(e.action),
      printable(e.subject ?? ""),
      printable(summariseDetail(e.detail)),
    ]);
    out.push(table(rows));
  }
  return `${out.join("\n")}\n`;
}

/** The parts of an audit detail worth a glance: the error, the call, the resolution. */
export function summariseDetail(detail: Record<string, unknown> | null): string {
  if (!detail) return "";
  const pick = ["error", "resolution", "note", "call", "status", "retryAt", "reason", "detail"];
  return pick
    .filter((k) => detail[k] !== undefined && detail[k] !== null)
    .map((k) => `${k}: ${String(detail[k])}`)
    .join("; ");
}

export const findingsCommand: Command = {
  name: "findings",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("findings", args, FLAGS);
    const [action, ...rest] = positionals;
    const s = style(colorEnabled(io.stdout));
    const store = () => openCliStore(values, io, { create: false });
    if (action === "list" || action === undefined) {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, "findings");
      const status =
        values.status === undefined
          ? undefined
          : oneOfFlag(values.status, FINDING_STATUSES, "--status", "findings", "open");
      return withStore(store(), async (db) => {
        const found = await db.findings.list({ status, provider: values.provider });
        io.stdout.write(
          values.json
            ? `${JSON.stringify(await Promise.all(found.map((f) => publicFinding(db, f))), null, 2)}\n`
            : await list(db, found, s),
        );
        return 0;
      });
    }
    if (action === "show") {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`, "findings");
      const id = parseId(rest[0], "the finding's ID", "findings");
      return withStore(store(), async (db) => {
        const f = await getFinding(db, id);
        if (values.json) {
          const history = await db.audit.list({ secretHash: f.secretHash });
          io.stdout.write(`${JSON.stringify({ ...(await publicFinding(db, f)), history }, null, 2)}\n`);
        } else io.stdout.write(await show(db, f, s));
        return 0;
      });
    }
    if (action === "resolve") {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`, "findings");
      const id = parseId(rest[0], "the finding's ID", "findings");
      if (values.as === undefined)
        throw new UsageError(`findings resolve needs --as ${RESOLUTIONS.join("|")}`, "findings");
      const resolution = oneOfFlag(values.as, RESOLUTIONS, "--as", "findings", "false-positive");
      return withStore(store(), async (db) => {
        const f = await resolveFinding(db, id, resolution, values.note ?? null);
        io.stdout.write(`finding #${f.id} (${f.redacted}, ${location(f)}) resolved as ${resolution}\n`);
        return 0;
      });
    }
    if (action === "validate") {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`, "findings");
      const id = parseId(rest[0], "the finding's ID", "findings");
      const checker = { settings: validateSettings(io.env), ttlMs: ttlFromEnv(io.env) };
      return withStore(store(), async (db) => {
        const f = await getFinding(db, id);
        const live = new LiveChecker({ store: db, ...checker });
        if (!live.supports(f.ruleId))
          throw new UsageError(`${f.ruleId} tokens have no live check (see the README)`, "findings");
        const secret = await tokenOf(db, f, values, io);
        const org = (await db.tokens.byHash(f.secretHash))?.org ?? null;
        const record = await live.check(f.ruleId, { secretHash: f.secretHash, secret, org }, { fresh: true });
        const view = viewOfValidation(record);
        io.stdout.write(
          values.json
            ? `${JSON.stringify({ id: f.id, validation: view }, null, 2)}\n`
            : `finding #${f.id} (${f.redacted}): ${describeValidation(view, s)}\n`,
        );
        return view.status === "inactive" ? 0 : 1;
      });
    }
    throw new UsageError(`unknown action "${action}"; use list, show, resolve or validate`, "findings");
  },
};
