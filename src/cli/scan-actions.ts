// What `scan` does after scanning when asked: --record stores findings, --registry matches them against the
// registry, --revoke queues and runs revocations per --policy, --dry-run shows what --revoke would do.
import { actOnFindings, type FindingActions } from "../revoke/act.js";
import { POLICIES, type RevocationPolicy } from "../revoke/policy.js";
import { REVOCATION_STATUSES, type RevokePayload, viewOfJob } from "../revoke/queue.js";
import type { RevokerSet } from "../revoke/types.js";
import { loadBaseline } from "../scan/baseline.js";
import type { ScanResult } from "../scan/run.js";
import { selectRules } from "../scan/settings.js";
import type { Finding } from "../scan/types.js";
import type { Store } from "../store/index.js";
import { type Io, oneOfFlag } from "./command.js";
import { cliRevokers, describeRevocation, maxAttempts, runRevocations, waitMs } from "./revocation-runner.js";
import { openCliStore, openForReading, withStore } from "./store-access.js";
import { plural, printable, type Style } from "./terminal.js";

interface ActionValues {
  record?: boolean;
  registry?: boolean;
  revoke?: boolean;
  "dry-run"?: boolean;
  policy?: string;
  db?: string;
  wait?: string;
  baseline?: string;
}

/** How the report shows what was done to each finding. */
export interface ScanAnnotations {
  json(finding: Finding): Record<string, unknown>;
  text(finding: Finding, style: Style): string;
}

/** One line on stderr: what was stored, matched and revoked. Revocations count tokens, not leak locations. */
function summarise(
  findings: readonly Finding[],
  actions: readonly FindingActions[],
  what: { recorded: boolean; matched: boolean; revoking: boolean; dbPath: string },
): string {
  const parts: string[] = [];
  if (what.recorded) {
    const created = actions.filter((a) => a.created).length;
    parts.push(`recorded ${plural(actions.length, "finding")} (${created} new) in ${what.dbPath}`);
  }
  if (what.matched) {
    const matched = new Set(actions.flatMap((a) => (a.registry ? [a.registry.id] : []))).size;
    parts.push(plural(matched, "registered token"));
  }
  if (what.revoking) {
    const tokens = new Map<string, string>();
    actions.forEach((a, i) => {
      if (a.revocation) tokens.set((findings[i] as Finding).secretHash, a.revocation.status);
    });
    const counts = new Map<string, number>();
    for (const status of tokens.values()) counts.set(status, (counts.get(status) ?? 0) + 1);
    parts.push(
      counts.size === 0
        ? "nothing to revoke"
        : `tokens: ${REVOCATION_STATUSES.filter((status) => counts.has(status))
            .map((status) => `${counts.get(status)} ${status}`)
            .join(", ")}`,
    );
  }
  return parts.join("; ");
}

/**
 * Checks the action flags before the scan starts (a bad --policy must not cost a scan), and returns the step to
 * run on its result; undefined when no action flag was given, so that the scan works exactly as before.
 */
export function planScanActions(
  values: ActionValues,
  settings: { ruleDirs: string[]; disabledRules: string[] },
  io: Io,
): ((result: ScanResult) => Promise<ScanAnnotations>) | undefined {
  const dryRun = values["dry-run"] === true;
  const revoke = values.revoke === true;
  const record = values.record === true || revoke;
  const match = values.registry === true || revoke || dryRun;
  if (!record && !match) {
    for (const flag of ["policy", "wait", "db"] as const)
      if (values[flag] !== undefined)
        io.stderr.write(
          `leakwarden scan: --${flag} does nothing without --record, --registry, --revoke or --dry-run\n`,
        );
    return undefined;
  }
  const policy = oneOfFlag(values.policy, POLICIES, "--policy", "scan", "registered");
  const wait = waitMs(values, "scan");
  const attempts = maxAttempts(io);
  const revokers = cliRevokers(io);
  // Opened now: a database that cannot be used must not cost a scan.
  const store = dryRun ? openForReading(values, io) : openCliStore(values, io, { create: true });
  return (result) =>
    applyScanActions(result, values, settings, io, store, {
      dryRun,
      revoke,
      record,
      match,
      policy,
      wait,
      attempts,
      revokers,
    });
}

async function applyScanActions(
  result: ScanResult,
  values: ActionValues,
  settings: { ruleDirs: string[]; disabledRules: string[] },
  io: Io,
  store: Store,
  plan: {
    dryRun: boolean;
    revoke: boolean;
    record: boolean;
    match: boolean;
    policy: RevocationPolicy;
    wait: number;
    attempts: number;
    revokers: RevokerSet;
  },
): Promise<ScanAnnotations> {
  const { dryRun, revoke, record, match, policy, wait, revokers } = plan;
  let findings = result.findings;
  if (values.baseline) {
    const known = loadBaseline(values.baseline);
    findings = findings.filter((f) => !known.has(f.fingerprint));
  }
  const rules = selectRules({ ...settings, allow: [] });
  const byFinding = await withStore(store, async () => {
    const outcome = actOnFindings(store, revokers, rules, findings, {
      record: record && !dryRun,
      match,
      revoke: revoke && !dryRun,
      dryRun,
      policy,
      maxAttempts: plan.attempts,
    });
    let actions = outcome.actions;
    if (outcome.pendingJobIds.length > 0) {
      await runRevocations(store, revokers, io, wait, outcome.pendingJobIds);
      actions = actions.map((a) => {
        const job =
          a.revocation?.jobId === undefined ? undefined : store.jobs.byId<RevokePayload>(a.revocation.jobId);
        return job ? { ...a, revocation: viewOfJob(job) } : a;
      });
    }
    const line = summarise(findings, actions, {
      recorded: record && !dryRun,
      matched: match,
      revoking: revoke || dryRun,
      dbPath: store.path,
    });
    io.stderr.write(`leakwarden: ${dryRun ? "dry run: " : ""}${line}\n`);
    return new Map(findings.map((f, i) => [f, actions[i] as FindingActions]));
  });

  return {
    json(finding) {
      const actions = byFinding.get(finding);
      if (!actions) return {};
      return {
        ...(record && !dryRun ? { findingId: actions.findingId } : {}),
        ...(match ? { registry: actions.registry } : {}),
        ...(revoke || dryRun ? { revocation: actions.revocation } : {}),
      };
    },
    text(finding, s) {
      const actions = byFinding.get(finding);
      if (!actions) return "";
      const parts: string[] = [];
      if (actions.findingId !== null) parts.push(s.dim(`finding #${actions.findingId}`));
      if (actions.registry)
        parts.push(
          s.bold(
            printable(
              `registered #${actions.registry.id}${actions.registry.name ? ` ${actions.registry.name}` : ""}${actions.registry.owner ? ` (${actions.registry.owner})` : ""}`,
            ),
          ),
        );
      if (actions.revocation) parts.push(describeRevocation(actions.revocation, s));
      return parts.join(" · ");
    },
  };
}
