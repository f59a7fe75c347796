// What `scan` does after scanning when asked: --record stores findings, --registry matches them against the
// registry, --revoke queues and runs revocations per --policy, --dry-run shows what --revoke would do.
import { actOnFindings, type FindingActions } from "../revoke/act.js";
import { POLICIES, type RevocationPolicy } from "../revoke/policy.js";
import { REVOCATION_STATUSES, type RevokePayload } from "../revoke/queue.js";
import type { RevokerSet } from "../revoke/types.js";
import type { ScanResult } from "../scan/run.js";
import { selectRules } from "../scan/settings.js";
import type { Finding } from "../scan/types.js";
import type { Store } from "../store/index.js";
import { LiveChecker, ttlFromEnv } from "../validate/checker.js";
import { ConfirmationWorker, withConfirmation } from "../validate/confirm.js";
import { validateFindings } from "../validate/findings.js";
import { validateSettings } from "../validate/settings.js";
import { describeValidation, type ValidationView, viewOfValidation } from "../validate/view.js";
import { type Io, oneOfFlag } from "./command.js";
import { cliRevokers, describeRevocation, maxAttempts, runRevocations, waitMs } from "./revocation-runner.js";
import { scanSource } from "./scan-source.js";
import { openCliStore, openForReading, withStore } from "./store-access.js";
import { plural, printable, type Style } from "./terminal.js";

interface ActionValues {
  record?: boolean;
  registry?: boolean;
  revoke?: boolean;
  "dry-run"?: boolean;
  validate?: boolean;
  policy?: string;
  db?: string;
  wait?: string;
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

/** "2 live, 1 inactive, 1 unknown", counting tokens. */
function countVerdicts(verdicts: ReadonlyMap<string, { validity: { status: string } }>): string {
  const counts = new Map<string, number>();
  for (const v of new Set(verdicts.values()))
    counts.set(v.validity.status, (counts.get(v.validity.status) ?? 0) + 1);
  if (counts.size === 0) return "no token with a live check";
  return ["live", "inactive", "unknown"]
    .filter((status) => counts.has(status))
    .map((status) => `${counts.get(status)} ${status}`)
    .join(", ");
}

/**
 * Checks the action flags before the scan starts (a bad --policy must not cost a scan), and returns the step to
 * run on its result; undefined when no action flag was given, so that the scan works exactly as before.
 */
export async function planScanActions(
  values: ActionValues,
  settings: { ruleDirs: string[]; disabledRules: string[] },
  io: Io,
  targets: readonly string[] = [],
): Promise<((result: ScanResult) => Promise<ScanAnnotations>) | undefined> {
  const dryRun = values["dry-run"] === true;
  const revoke = values.revoke === true;
  const record = values.record === true || revoke;
  const match = values.registry === true || revoke || dryRun;
  // Policy live needs a verdict on each token.
  const validate = values.validate === true || (revoke && values.policy === "live");
  if (!record && !match && !validate) {
    for (const flag of ["policy", "wait", "db"] as const)
      if (values[flag] !== undefined)
        io.stderr.write(
          `leakwarden scan: --${flag} does nothing without --record, --registry, --revoke, --dry-run or --validate\n`,
        );
    return undefined;
  }
  // Settings checked before the scan: a bad URL or time to live must not cost one.
  const checker = validate
    ? {
        settings: validateSettings(io.env),
        ttlMs: ttlFromEnv(io.env),
        rules: selectRules({ ...settings, allow: [] }),
      }
    : undefined;
  const policy = oneOfFlag(values.policy, POLICIES, "--policy", "scan", "registered");
  const wait = waitMs(values, "scan");
  const attempts = maxAttempts(io);
  const revokers = cliRevokers(io);
  // Opened now: a database that cannot be used must not cost a scan. A dry run writes nothing, so it
  // cannot keep live-check verdicts either.
  const store =
    dryRun && !validate ? await openForReading(values, io) : await openCliStore(values, io, { create: true });
  return (result) =>
    applyScanActions(result, settings, io, store, {
      checker: checker && new LiveChecker({ store, ...checker }),
      dryRun,
      revoke,
      record,
      match,
      policy,
      wait,
      attempts,
      revokers,
      source: scanSource(targets),
    });
}

/** Removes from `result` the findings the store says were triaged away, and counts them as `triaged`. */
async function leaveOutTriaged(
  result: ScanResult & { suppressed?: Record<string, number> },
  store: Store,
  source: string,
): Promise<void> {
  const triaged = await store.findings.triaged(
    source,
    result.findings.map((f) => f.fingerprint),
  );
  const kept = result.findings.filter((f) => !triaged.has(f.fingerprint));
  if (result.suppressed) result.suppressed.triaged = result.findings.length - kept.length;
  result.findings = kept;
}

async function applyScanActions(
  result: ScanResult,
  settings: { ruleDirs: string[]; disabledRules: string[] },
  io: Io,
  store: Store,
  plan: {
    checker: LiveChecker | undefined;
    dryRun: boolean;
    revoke: boolean;
    record: boolean;
    match: boolean;
    policy: RevocationPolicy;
    wait: number;
    attempts: number;
    revokers: RevokerSet;
    /** Where the scan ran (scan-source.ts): part of each finding's identity. */
    source: string;
  },
): Promise<ScanAnnotations> {
  const { dryRun, revoke, record, match, policy, wait, revokers } = plan;
  // --baseline and .leakwardenignore have already left out known findings (scan/suppress.ts); triage feeds
  // back here, where the store is open: a fingerprint resolved as a false positive or an accepted risk is
  // neither reported nor acted on again. The result is narrowed in place, so that the report agrees.
  await leaveOutTriaged(result, store, plan.source);
  const { findings } = result;
  const rules = selectRules({ ...settings, allow: [] });
  const byFinding = await withStore(store, async () => {
    // Checked before acting: policy `live` revokes unregistered tokens that a live check says work.
    const { checker } = plan;
    const verdicts = checker ? await validateFindings(store, checker, findings) : undefined;
    const outcome = await actOnFindings(store, revokers, rules, findings, {
      source: plan.source,
      verdicts,
      confirm: checker && ((ruleId, org) => checker.canCheck(ruleId, { org })),
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
      // The first confirming check now; re-checks over the propagation window stay queued.
      if (checker) await new ConfirmationWorker({ store, checker }).runDue();
      actions = await Promise.all(
        actions.map(async (a) => {
          const job =
            a.revocation?.jobId === undefined
              ? undefined
              : await store.jobs.byId<RevokePayload>(a.revocation.jobId);
          return job ? { ...a, revocation: await withConfirmation(store, job) } : a;
        }),
      );
    }
    const line = summarise(findings, actions, {
      recorded: record && !dryRun,
      matched: match,
      revoking: revoke || dryRun,
      dbPath: store.path,
    });
    if (line) io.stderr.write(`leakwarden: ${dryRun ? "dry run: " : ""}${line}\n`);
    if (verdicts) io.stderr.write(`leakwarden: live checks: ${countVerdicts(verdicts)}\n`);
    const annotated = new Map<Finding, FindingActions & { validation: ValidationView | undefined }>();
    for (const [i, f] of findings.entries()) {
      // The latest verdict: a check that confirmed a revocation is newer than the one before acting.
      const checked = verdicts?.get(f.secretHash);
      const verdict = checked && ((await store.validations.get(checked.secretHash)) ?? checked);
      annotated.set(f, {
        ...(actions[i] as FindingActions),
        validation: verdict && viewOfValidation(verdict),
      });
    }
    return annotated;
  });

  return {
    json(finding) {
      const actions = byFinding.get(finding);
      if (!actions) return {};
      return {
        ...(record && !dryRun ? { findingId: actions.findingId } : {}),
        ...(match ? { registry: actions.registry } : {}),
        ...(revoke || dryRun ? { revocation: actions.revocation } : {}),
        ...(plan.checker ? { validation: actions.validation ?? null } : {}),
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
      if (plan.checker) parts.push(describeValidation(actions.validation, s));
      return parts.join(" · ");
    },
  };
}
