// What the backfill and pull request stages do with a scan's findings, as the push stage does: check them live
// when the policy needs the verdicts, then in one transaction record them, queue their revocations (by the
// repository's policy, at the job's priority) and whatever report the caller writes. A crash after the
// transaction loses none of it; a retry finds each finding by fingerprint and each revocation by token.
import { toPublic } from "../report/public.js";
import { type ActResult, actOnFindings } from "../revoke/act.js";
import type { Handoff } from "../revoke/handoff.js";
import type { RevokerSet } from "../revoke/types.js";
import type { Engine } from "../scan/engine.js";
import type { Rule } from "../scan/rules.js";
import { createEngine } from "../scan/settings.js";
import type { Finding } from "../scan/types.js";
import type { Store } from "../store/index.js";
import type { ValidationRecord } from "../store/validations.js";
import type { LiveChecker } from "../validate/checker.js";
import { validateFindings } from "../validate/findings.js";
import { viewOfValidation } from "../validate/view.js";
import type { BackgroundChecks } from "./background-checks.js";
import type { IssueFinding } from "./breach-issue.js";
import type { RepoSettings } from "./repo-settings.js";

export interface ActDeps {
  store: Store;
  revokers: RevokerSet;
  rules: readonly Rule[];
  checker?: LiveChecker;
  checks?: BackgroundChecks;
  revocationsQueued(): void;
  /** Lets this process's revocation worker take the calls it has a slot for in the scan's own transaction. */
  handoff?(): Handoff | undefined;
  log: (message: string) => void;
}

/** One engine per set of disabled rules: compiling costs milliseconds, repositories share settings. */
/** What a breach issue or comment shows of each finding: public fields, what was done, the live check. */
export function issueFindings(
  findings: readonly Finding[],
  acted: ActResult,
  verdicts?: ReadonlyMap<string, ValidationRecord>,
): IssueFinding[] {
  return findings.map((f, i) => ({
    ...toPublic(f),
    revocation: acted.actions[i]?.revocation ?? {
      status: "skipped",
      provider: null,
      at: null,
      reason: "revocation is off",
    },
    ...(verdicts?.has(f.secretHash)
      ? { validation: viewOfValidation(verdicts.get(f.secretHash) as ValidationRecord) }
      : {}),
  }));
}

export class EngineCache {
  private readonly engines = new Map<string, Engine>();

  for(settings: RepoSettings): Engine {
    const key = [...settings.disabledRules].sort().join(",");
    let engine = this.engines.get(key);
    if (!engine) {
      engine = createEngine({ ruleDirs: [], disabledRules: settings.disabledRules, allow: [] });
      this.engines.set(key, engine);
    }
    return engine;
  }
}

/**
 * Records the findings, queues their revocations, and runs `report` (with the findings as a report shows
 * them) in the same transaction. `key` names the live checks that run in the background.
 */
export async function actOnScan<R>(
  deps: ActDeps,
  scan: { source: string; key: string; findings: Finding[]; settings: RepoSettings; priority: number },
  /** Runs inside the transaction: `tx` is the store to write through. */
  report: (tx: Store, findings: IssueFinding[], acted: ActResult) => Promise<R>,
): Promise<R> {
  const { store, revokers, rules } = deps;
  const { findings, settings } = scan;
  const checker = settings.validate ? deps.checker : undefined;
  const policy = settings.revoke;
  const verdicts =
    checker && policy === "live" ? await validateFindings(store, checker, findings) : undefined;
  const { acted, result } = await store.transaction(async (tx) => {
    const acted = await actOnFindings(tx, revokers, rules, findings, {
      source: scan.source,
      record: true,
      revoke: policy !== "off",
      match: true,
      policy,
      priority: scan.priority,
      verdicts,
      confirm: checker && ((ruleId, org) => checker.canCheck(ruleId, { org })),
      handoff: deps.handoff?.(),
    });
    return { acted, result: await report(tx, issueFindings(findings, acted, verdicts), acted) };
  });
  if (acted.pendingJobIds.length > 0) deps.revocationsQueued();
  if (checker && !verdicts && findings.length > 0)
    deps.checks?.start(
      scan.key,
      () => validateFindings(store, checker, findings),
      (error) => deps.log(`${scan.key}: live checks failed: ${error.message}`),
    );
  return result;
}
