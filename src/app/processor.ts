// The scan stage's work behind a webhook: read the repository's settings, fetch and scan the push or download
// and scan the run's logs, record and match the findings, queue their revocations and the report. It never
// writes to GitHub: the report stage (report-jobs.ts) does, at GitHub's pace.
import type { ProbotOctokit } from "probot";
import { toPublic } from "../report/public.js";
import { actOnFindings } from "../revoke/act.js";
import type { RevocationPolicy } from "../revoke/policy.js";
import type { RevokerSet } from "../revoke/types.js";
import type { Engine } from "../scan/engine.js";
import { loadFingerprintIgnoreAt } from "../scan/fingerprint-ignore.js";
import { scanRange } from "../scan/history.js";
import type { Rule } from "../scan/rules.js";
import { createEngine } from "../scan/settings.js";
import type { Finding } from "../scan/types.js";
import type { ArchiveLimits } from "../sources/log-archive.js";
import type { Store } from "../store/index.js";
import type { ValidationRecord } from "../store/validations.js";
import type { LiveChecker } from "../validate/checker.js";
import { validateFindings } from "../validate/findings.js";
import { viewOfValidation } from "../validate/view.js";
import type { BackgroundChecks } from "./background-checks.js";
import { type Breach, type BreachSource, breachKey } from "./breach-issue.js";
import type { GitCache } from "./git-cache.js";
import {
  parseRepoSettings,
  type RepoSettings,
  readOrgSettings,
  SETTINGS_FILE,
  withOrgSettings,
} from "./repo-settings.js";
import { enqueueBreachReport } from "./report-jobs.js";
import { scanRunLogs } from "./run-logs.js";
import type { PushScan, RunScan, ScanJob } from "./scan-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface ProcessorDeps {
  store: Store;
  octokitFor(installation: number): Promise<Octokit>;
  revokers: RevokerSet;
  /** Wakes the revocation worker once jobs are queued. */
  revocationsQueued(): void;
  /** Live checks (validate/): verdicts before acting, confirmation after revoking. Absent: no live checks. */
  checker?: LiveChecker;
  /** Where live checks that need not precede the revocations run, off the scan slot. */
  checks?: BackgroundChecks;
  /** Wakes the report stage once a report is queued. */
  reportsQueued(): void;
  cache: GitCache;
  rules: readonly Rule[];
  maxFileSize: number;
  archiveLimits: ArchiveLimits;
  log: (message: string) => void;
}

export interface ProcessResult {
  findings: number;
  /** The report stage's job for this push or run (its breach issue). */
  reportJobId?: number;
  skipped?: string;
}

/**
 * Reads `.github/leakwarden.yml` with Probot's config loader; a broken file means defaults and a reason. The
 * organisation's routing (its security repository) applies whatever the repository's own file says.
 */
export async function readRepoSettings(
  octokit: Octokit,
  owner: string,
  repo: string,
  rules: readonly Rule[],
): Promise<{ settings: RepoSettings; problem?: string; orgProblem?: string }> {
  const [own, org] = await Promise.all([
    readOwnSettings(octokit, owner, repo, rules),
    readOrgSettings(octokit, owner),
  ]);
  const routed = withOrgSettings(own.settings, org, own.file);
  const problem = own.problem ?? routed.problem;
  return {
    settings: routed.settings,
    ...(problem ? { problem } : {}),
    ...(routed.orgProblem ? { orgProblem: routed.orgProblem } : {}),
  };
}

async function readOwnSettings(octokit: Octokit, owner: string, repo: string, rules: readonly Rule[]) {
  let raw: unknown = null;
  let own: unknown = null;
  try {
    const { config, files } = await octokit.config.get({ owner, repo, path: `.github/${SETTINGS_FILE}` });
    if (files.some((file) => file.config !== null)) raw = config;
    own = files[0]?.config ?? null;
  } catch (error) {
    return {
      settings: parseRepoSettings(null).settings,
      problem: `it could not be read: ${(error as Error).message.split("\n")[0]}`,
      file: null,
    };
  }
  const parsed = parseRepoSettings(raw, own);
  const unknown = parsed.settings.disabledRules.filter((id) => !rules.some((r) => r.id === id));
  if (unknown.length > 0) {
    // Only this repository's own names are shown; others came through _extends from another repository.
    const ownList = (own as { rules?: { disable?: unknown } } | null)?.rules?.disable;
    const shown = unknown.filter((id) => Array.isArray(ownList) && ownList.includes(id));
    const hidden = unknown.length - shown.length;
    return {
      settings: parseRepoSettings(null).settings,
      file: own,
      problem: `rules.disable names unknown rules: ${[...shown, ...(hidden > 0 ? [`${hidden} from a file named by _extends`] : [])].join(", ")}`,
    };
  }
  return { ...parsed, file: own };
}

export class ScanProcessor {
  /** One engine per set of disabled rules: compiling costs milliseconds, repositories share settings. */
  private readonly engines = new Map<string, Engine>();

  constructor(private readonly deps: ProcessorDeps) {}

  private engineFor(settings: RepoSettings): Engine {
    const key = [...settings.disabledRules].sort().join(",");
    let engine = this.engines.get(key);
    if (!engine) {
      engine = createEngine({ ruleDirs: [], disabledRules: settings.disabledRules, allow: [] });
      this.engines.set(key, engine);
    }
    return engine;
  }

  async process(job: ScanJob): Promise<ProcessResult> {
    const payload = job.payload;
    const { owner, name } = payload.repository;
    const octokit = await this.deps.octokitFor(payload.installation);
    const { settings, problem, orgProblem } = await readRepoSettings(octokit, owner, name, this.deps.rules);
    if (payload.type === "push" && !settings.scan.pushes)
      return { findings: 0, skipped: "scan.pushes is off" };
    if (payload.type === "workflow_run" && !settings.scan.logs)
      return { findings: 0, skipped: "scan.logs is off" };

    const engine = this.engineFor(settings);
    const scanned =
      payload.type === "push"
        ? await this.scanPush(octokit, payload, engine, settings)
        : await this.scanRun(octokit, payload, engine);
    const { source, logsProblem, ignoreProblem } = scanned;
    if (logsProblem) this.deps.log(`${payload.repository.fullName}: ${logsProblem}`);
    const { store, revokers, rules } = this.deps;
    const findings = this.withoutKnown(payload.repository.fullName, scanned.findings, scanned.ignored);
    if (findings.length === 0) return { findings: 0 };

    const policy: RevocationPolicy = settings.revoke;
    const checker = settings.validate ? this.deps.checker : undefined;
    // Policy `live` decides on the verdicts, so it waits for them; any other policy checks in the background,
    // after its revocations are queued: a slow or paced issuer never holds a scan slot or delays a revocation.
    const verdicts =
      checker && policy === "live" ? await validateFindings(store, checker, findings) : undefined;
    const key = breachKey(payload.repository.fullName, source);
    const needsReport = settings.issues.enabled || (payload.type === "workflow_run" && settings.logs.delete);
    // Findings, revocations and the report are written together: a crash after this loses none of them.
    const { acted, report } = store.transaction(() => {
      const acted = actOnFindings(store, revokers, rules, findings, {
        source: payload.repository.fullName,
        record: true,
        revoke: policy !== "off",
        match: true,
        policy,
        priority: job.priority,
        verdicts,
        confirm: checker && ((ruleId, org) => checker.canCheck(ruleId, { org })),
      });
      const breach: Breach = {
        repository: {
          fullName: payload.repository.fullName,
          htmlUrl: payload.repository.htmlUrl,
          ...(payload.repository.visibility ? { visibility: payload.repository.visibility } : {}),
        },
        source,
        findings: findings.map((f, i) => ({
          ...toPublic(f),
          findingId: acted.actions[i]?.findingId ?? null,
          revocation: acted.actions[i]?.revocation ?? {
            status: "skipped",
            provider: null,
            at: null,
            reason: "revocation is off",
          },
          ...(verdicts?.has(f.secretHash)
            ? { validation: viewOfValidation(verdicts.get(f.secretHash) as ValidationRecord) }
            : {}),
        })),
        ...(problem ? { settingsProblem: problem } : {}),
        ...(logsProblem ? { scanProblem: logsProblem } : {}),
        ...(ignoreProblem ? { ignoreProblem } : {}),
        ...(orgProblem ? { orgSettingsProblem: orgProblem } : {}),
      };
      const report = needsReport
        ? enqueueBreachReport(
            store,
            {
              type: "breach",
              installation: payload.installation,
              breachKey: key,
              breach,
              settings,
              scanJobId: job.id,
            },
            job.priority,
          )
        : undefined;
      return { acted, report };
    });
    if (acted.pendingJobIds.length > 0) this.deps.revocationsQueued();
    if (checker && !verdicts)
      this.deps.checks?.start(
        key,
        () => validateFindings(store, checker, findings),
        (error) => this.deps.log(`${key}: live checks failed: ${error.message}`),
      );
    if (report?.created) this.deps.reportsQueued();
    if (!settings.issues.enabled) return { findings: findings.length, skipped: "issues.enabled is off" };
    return { findings: findings.length, reportJobId: report?.job.id };
  }

  /**
   * Triage feeds back: findings whose fingerprint a person resolved as a false positive or an accepted risk
   * for this repository, or that the pushed `.leakwardenignore` lists, are neither reported nor acted on.
   */
  private withoutKnown(repository: string, findings: Finding[], ignored: ReadonlySet<string>): Finding[] {
    if (findings.length === 0) return findings;
    const triaged = this.deps.store.findings.triaged(
      repository,
      findings.map((f) => f.fingerprint),
    );
    const kept = findings.filter((f) => !ignored.has(f.fingerprint) && !triaged.has(f.fingerprint));
    const left = findings.length - kept.length;
    if (left > 0)
      this.deps.log(
        `${repository}: ${left} finding${left === 1 ? "" : "s"} left out (resolved as false positive or accepted risk, or in .leakwardenignore)`,
      );
    return kept;
  }

  private async scanPush(octokit: Octokit, push: PushScan, engine: Engine, settings: RepoSettings) {
    const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
    const update = { before: push.before, after: push.after, ref: push.ref };
    const { result, ignored, ignoreProblem } = await this.deps.cache.scanPush(
      push.repository,
      token,
      update,
      async (path) => {
        const result = await scanRange(path, update, engine, {
          maxFileSize: this.deps.maxFileSize,
          ignore: settings.pathsIgnore,
        });
        // The pushed commit's own .leakwardenignore: reviewed false positives, committed with the code.
        try {
          return { result, ignored: await loadFingerprintIgnoreAt(path, push.after) };
        } catch (error) {
          return {
            result,
            ignored: new Set<string>(),
            ignoreProblem: `${(error as Error).message}; it was not used`,
          };
        }
      },
    );
    const source: BreachSource = {
      kind: "push",
      ref: push.ref,
      before: push.before,
      after: push.after,
      pusher: push.pusher,
      ...(push.compareUrl ? { compareUrl: push.compareUrl } : {}),
    };
    return { findings: result.findings, source, logsProblem: undefined, ignored, ignoreProblem };
  }

  private async scanRun(octokit: Octokit, run: RunScan, engine: Engine) {
    const { owner, name } = run.repository;
    const result = await scanRunLogs(
      octokit,
      engine,
      { owner, repo: name, runId: run.runId },
      this.deps.archiveLimits,
    );
    const source: BreachSource = {
      kind: "workflow_run",
      runId: run.runId,
      runName: run.runName,
      runUrl: run.runUrl,
      actor: run.actor,
      attempt: run.attempt,
      ...(run.runNumber !== undefined ? { runNumber: run.runNumber } : {}),
      ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    };
    const findings: Finding[] = result.findings;
    return {
      findings,
      source,
      logsProblem: result.problem,
      ignored: new Set<string>(),
      ignoreProblem: undefined as string | undefined,
    };
  }
}
