import { type ActResult, actOnFindings } from "../revoke/act.js";
import type { Handoff } from "../revoke/handoff.js";
import type { RevokerSet } from "../revoke/types.js";
import type { Rule } from "../scan/rules.js";
import type { Finding } from "../scan/types.js";
import type { Store } from "../store/index.js";
import type { LiveChecker } from "../validate/checker.js";
import { validateFindings } from "../validate/findings.js";
import { issueFindings } from "./act-on-scan.js";
import type { BackgroundChecks } from "./background-checks.js";
import { type Breach, breachKey } from "./breach-issue.js";
import type { RepoSettings } from "./repo-settings.js";
import { enqueueBreachReport } from "./report-jobs.js";
import type { RepositoryRef } from "./scan-jobs.js";
import type { TextBreachSource } from "./text-breach.js";

export interface TextActDeps {
  store: Store;
  revokers: RevokerSet;
  rules: readonly Rule[];
  checker?: LiveChecker;
  checks?: BackgroundChecks;
  revocationsQueued(): void;
  /** Lets this process's revocation worker take the calls it has a slot for in the scan's own transaction. */
  handoff?(): Handoff | undefined;
  reportsQueued(): void;
  log: (message: string) => void;
}

export interface TextActInput {
  installation: number;
  repository: RepositoryRef;
  source: TextBreachSource;
  findings: Finding[];
  settings: RepoSettings;
  /** Why .github/leakwarden.yml was ignored, if it was. */
  settingsProblem?: string;
  /** Report only what this text never reported before (an edit). */
  onlyNew: boolean;
  /** Whether the findings deserve a breach issue, once acted on (a secret scanning alert: only a known token). */
  worthReporting?: (acted: ActResult) => boolean;
  scanJobId: number;
  priority: number;
}

export interface TextActResult {
  findings: number;
  /** Findings the breach issue reports. */
  reported: number;
  reportJobId?: number;
}

/** Whether this text has reported this token before: a finding with the same fingerprint from this source. */
async function reportedBefore(store: Store, finding: Finding, source: string): Promise<boolean> {
  return (await store.findings.list({ secretHash: finding.secretHash })).some(
    (r) => r.fingerprint === finding.fingerprint && r.source === source,
  );
}

/**
 * Records and acts on the findings and queues their report, in one transaction with `alsoQueue` (the redaction;
 * it returns whether it queued a new report-stage job): a crash after it loses none of them.
 */
export async function actOnTextFindings(
  deps: TextActDeps,
  input: TextActInput,
  alsoQueue?: (tx: Store, acted: ActResult) => Promise<boolean>,
): Promise<TextActResult> {
  const { store, revokers, rules } = deps;
  const { settings, findings } = input;
  const source = input.repository.fullName;
  const policy = settings.revoke;
  const checker = settings.validate ? deps.checker : undefined;
  const verdicts =
    checker && policy === "live" ? await validateFindings(store, checker, findings) : undefined;
  const key = breachKey(source, input.source);
  const { acted, report, fresh, also } = await store.transaction(async (tx) => {
    const fresh: boolean[] = [];
    for (const f of findings) fresh.push(!input.onlyNew || !(await reportedBefore(tx, f, source)));
    const acted = await actOnFindings(tx, revokers, rules, findings, {
      source,
      record: true,
      revoke: policy !== "off",
      match: true,
      policy,
      priority: input.priority,
      verdicts,
      confirm: checker && ((ruleId, org) => checker.canCheck(ruleId, { org })),
      handoff: deps.handoff?.(),
    });
    const reported = issueFindings(findings, acted, verdicts).filter((_, i) => fresh[i]);
    const breach: Breach = {
      repository: {
        fullName: source,
        htmlUrl: input.repository.htmlUrl,
        ...(input.repository.visibility ? { visibility: input.repository.visibility } : {}),
      },
      source: input.source,
      findings: reported,
      ...(input.settingsProblem ? { settingsProblem: input.settingsProblem } : {}),
    };
    const worth = reported.length > 0 && (input.worthReporting?.(acted) ?? true);
    const report =
      worth && settings.issues.enabled
        ? await enqueueBreachReport(
            tx,
            {
              type: "breach",
              installation: input.installation,
              breachKey: key,
              breach,
              settings,
              scanJobId: input.scanJobId,
            },
            input.priority,
          )
        : undefined;
    const also = (await alsoQueue?.(tx, acted)) ?? false;
    return { acted, report, fresh: reported.length, also };
  });
  if (acted.pendingJobIds.length > 0) deps.revocationsQueued();
  if (checker && !verdicts)
    deps.checks?.start(
      key,
      () => validateFindings(store, checker, findings),
      (error) => deps.log(`${key}: live checks failed: ${error.message}`),
    );
  if (report?.created || also) deps.reportsQueued();
  return { findings: findings.length, reported: report ? fresh : 0, reportJobId: report?.job.id };
}
