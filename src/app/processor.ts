// The scan stage's work behind a webhook: read the repository's settings, fetch and scan the push or download
// and scan the run's logs, record and match the findings, queue their revocations and the report. It never
// writes to GitHub: the report stage (report-jobs.ts) does, at GitHub's pace.
import type { ProbotOctokit } from "probot";
import { type ActResult, actOnFindings } from "../revoke/act.js";
import type { Handoff } from "../revoke/handoff.js";
import type { RevocationPolicy } from "../revoke/policy.js";
import type { RevokerSet } from "../revoke/types.js";
import type { Engine } from "../scan/engine.js";
import { loadFingerprintIgnoresAt } from "../scan/fingerprint-ignore.js";
import { scanPushBurst } from "../scan/history.js";
import type { Rule } from "../scan/rules.js";
import { createEngine } from "../scan/settings.js";
import type { Finding } from "../scan/types.js";
import type { ArchiveLimits } from "../sources/log-archive.js";
import type { Store } from "../store/index.js";
import type { LiveChecker } from "../validate/checker.js";
import { validateFindings } from "../validate/findings.js";
import { issueFindings } from "./act-on-scan.js";
import type { BackgroundChecks } from "./background-checks.js";
import { type Breach, type BreachSource, breachKey } from "./breach-issue.js";
import type { GitCache, PushOutcome } from "./git-cache.js";
import {
  parseRepoSettings,
  type RepoSettings,
  readOrgSettings,
  SETTINGS_FILE,
  withOrgSettings,
} from "./repo-settings.js";
import { enqueueBreachReports } from "./report-jobs.js";
import { scanRunLogs } from "./run-logs.js";
import type { PushScan, RunScan, ScanJob } from "./scan-jobs.js";
import { SettingsCache } from "./settings-cache.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface ProcessorDeps {
  store: Store;
  octokitFor(installation: number): Promise<Octokit>;
  revokers: RevokerSet;
  /** Wakes the revocation worker once jobs are queued. */
  revocationsQueued(): void;
  /** Lets this process's revocation worker take the calls it has a slot for in the scan's own transaction. */
  handoff?(): Handoff | undefined;
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
  /** Where its time went, when it was scanned. */
  timings?: ScanTimings;
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

/** Where one push's time went in the scan stage (ms), and how many pushes its batch held. */
export interface ScanTimings {
  batch: number;
  /** Until the repository's settings were read (beside the fetch). */
  settingsMs: number;
  /** From the batch's start until its objects were in: the fetch, and any wait for the repository's lock. */
  fetchMs: number;
  scanMs: number;
  recordMs: number;
}

export interface ScanProcessorOptions extends ProcessorDeps {
  /** How long a repository's settings are kept (0: read for every job; default in settings-cache.ts). */
  settingsTtlMs?: number;
}

type Settings = Awaited<ReturnType<typeof readRepoSettings>>;

/** A push the repository's settings say not to scan. */
const PUSHES_OFF: ProcessResult = { findings: 0, skipped: "scan.pushes is off" };

export class ScanProcessor {
  /** One engine per set of disabled rules: compiling costs milliseconds, repositories share settings. */
  private readonly engines = new Map<string, Engine>();
  private readonly settings: SettingsCache<Settings>;

  constructor(private readonly deps: ScanProcessorOptions) {
    this.settings = new SettingsCache(deps.settingsTtlMs ?? 0);
  }

  private engineFor(settings: RepoSettings): Engine {
    const key = [...settings.disabledRules].sort().join(",");
    let engine = this.engines.get(key);
    if (!engine) {
      engine = createEngine({ ruleDirs: [], disabledRules: settings.disabledRules, allow: [] });
      this.engines.set(key, engine);
    }
    return engine;
  }

  /** The repository's settings, kept a short while; the pushes about to be scanned may change them. */
  private settingsFor(octokit: Octokit, payloads: readonly ScanJob["payload"][]): Promise<Settings> {
    const { installation, repository } = payloads[0] as ScanJob["payload"];
    const key = `${installation}:${repository.fullName}`;
    const toDefaultBranch = payloads.some(
      (p) =>
        p.type === "push" &&
        (p.repository.defaultBranch === undefined || p.ref === `refs/heads/${p.repository.defaultBranch}`),
    );
    if (toDefaultBranch) this.settings.forget(key);
    return this.settings.get(
      key,
      () => readRepoSettings(octokit, repository.owner, repository.name, this.deps.rules),
      (read) => !read.problem?.startsWith("it could not be read"),
    );
  }

  async process(job: ScanJob): Promise<ProcessResult> {
    const [result] = await this.processBatch([job]);
    if (result instanceof Error || result === undefined)
      throw result ?? new Error("the job was not processed");
    return result;
  }

  /**
   * Several scan jobs in one go. Pushes to one repository share one settings read, one fetch and one ref
   * update; each push keeps its own findings, revocations, report and result, recorded as soon as it is scanned
   * (its revocations do not wait for the rest of the batch). Per job, in order: its result or its error.
   */
  async processBatch(jobs: readonly ScanJob[]): Promise<(ProcessResult | Error)[]> {
    const first = jobs[0]?.payload;
    if (!first) return [];
    const together =
      first.type === "push" &&
      jobs.every(
        (j) =>
          j.payload.type === "push" &&
          j.payload.installation === first.installation &&
          j.payload.repository.fullName === first.repository.fullName,
      );
    if (!together || first.type !== "push") {
      const results: (ProcessResult | Error)[] = [];
      for (const job of jobs) results.push(await this.processOne(job).catch((error: Error) => error));
      return results;
    }
    return this.processPushes(jobs, first.installation, first.repository);
  }

  private async processOne(job: ScanJob): Promise<ProcessResult> {
    const payload = job.payload;
    if (payload.type === "push") {
      const [result] = await this.processPushes([job], payload.installation, payload.repository);
      if (result instanceof Error || result === undefined)
        throw result ?? new Error("the push was not scanned");
      return result;
    }
    const started = performance.now();
    const octokit = await this.deps.octokitFor(payload.installation);
    const { settings, problem, orgProblem } = await this.settingsFor(octokit, [payload]);
    const settingsMs = performance.now() - started;
    if (!settings.scan.logs) return { findings: 0, skipped: "scan.logs is off" };
    const scanned = performance.now();
    const { findings, source, logsProblem } = await this.scanRun(octokit, payload, this.engineFor(settings));
    if (logsProblem) this.deps.log(`${payload.repository.fullName}: ${logsProblem}`);
    const recorded = performance.now();
    const result = await this.record(job, findings, source, settings, problem, {
      ...(logsProblem ? { logsProblem } : {}),
      ...(orgProblem ? { orgProblem } : {}),
    });
    return {
      ...result,
      timings: {
        batch: 1,
        settingsMs,
        fetchMs: 0,
        scanMs: recorded - scanned,
        recordMs: performance.now() - recorded,
      },
    };
  }

  private async processPushes(
    jobs: readonly ScanJob[],
    installation: number,
    repository: PushScan["repository"],
  ): Promise<(ProcessResult | Error)[]> {
    const started = performance.now();
    const octokit = await this.deps.octokitFor(installation);
    // The settings are read from GitHub while the pushes are fetched: neither needs the other, and on a
    // repository's first push in a while each takes round trips. The scan waits for both.
    let settingsMs = 0;
    const reading = this.settingsFor(
      octokit,
      jobs.map((j) => j.payload),
    ).then((read) => {
      settingsMs = performance.now() - started;
      return read;
    });
    // Awaited once the objects are in; should the fetch fail first, the settings are not the batch's error.
    reading.catch(() => {});
    // What people triaged away in this repository, read while the pushes are fetched rather than after the scan:
    // one round trip fewer between a scan and its revocations.
    const triaged = this.deps.store.findings.triaged(repository.fullName);
    triaged.catch(() => {});
    // Probot keeps the installation token until it nears its expiry: this mints nothing per push.
    const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
    const pushes = jobs.map((j) => j.payload as PushScan);
    const outcomes = await this.deps.cache.scanPushes<ProcessResult>(
      repository,
      token,
      pushes,
      async (path, indices) => {
        const fetchMs = performance.now() - started;
        const read = await reading;
        // Not scanned: the refs stay, so that these commits are read once scanning is on again.
        if (!read.settings.scan.pushes)
          return indices.map(() => ({ ok: true, value: { ...PUSHES_OFF }, unscanned: true }) as const);
        const batch = indices.map((i) => jobs[i] as ScanJob);
        return this.scanFetched(path, batch, read, { batch: jobs.length, settingsMs, fetchMs }, triaged);
      },
    );
    // A push that could not be fetched is only skipped when the settings say so, as it was before any fetch.
    const read = await reading.catch(() => undefined);
    if (read && !read.settings.scan.pushes) return jobs.map(() => ({ ...PUSHES_OFF }));
    return outcomes.map((o) => (o.ok ? o.value : o.error));
  }

  /** Scans fetched pushes of one repository together, and records each one's findings; per push, its outcome. */
  private async scanFetched(
    path: string,
    jobs: readonly ScanJob[],
    { settings, problem, orgProblem }: Settings,
    timings: Omit<ScanTimings, "scanMs" | "recordMs">,
    triaged: Promise<ReadonlySet<string>>,
  ): Promise<PushOutcome<ProcessResult>[]> {
    const pushes = jobs.map((j) => j.payload as PushScan);
    const engine = this.engineFor(settings);
    const scanning = performance.now();
    // Read while the scan runs (it never fails: a problem becomes a note): the record needs it, the scan not.
    const pushedIgnores = pushedIgnoreFiles(
      path,
      pushes.map((p) => p.after),
    );
    // One read for the burst; each push's findings are its own (a commit two bring in is reported once).
    const scanned = await scanPushBurst(path, pushes, engine, {
      maxFileSize: this.deps.maxFileSize,
      ignore: settings.pathsIgnore,
    });
    const scanMs = performance.now() - scanning;
    const ignores = await pushedIgnores;
    // The whole batch recorded in one transaction, a few statements for all its pushes (on PostgreSQL each
    // statement is a round trip): every push's revocations are queued a moment after the scan.
    const recording = performance.now();
    const items: (RecordItem | Error)[] = jobs.map((job, k) => {
      const outcome = scanned[k];
      if (outcome === undefined || outcome instanceof Error)
        return outcome ?? new Error("the push was not scanned");
      return {
        job,
        scanned: outcome.findings,
        source: pushSource(pushes[k] as PushScan),
        notes: { ...ignores[k], ...(orgProblem ? { orgProblem } : {}) },
      };
    });
    const recorded = await this.recordAll(
      items.filter((item): item is RecordItem => !(item instanceof Error)),
      settings,
      problem,
      triaged,
    );
    const recordMs = performance.now() - recording;
    let next = 0;
    return items.map((item): PushOutcome<ProcessResult> => {
      if (item instanceof Error) return { ok: false, error: item };
      const result = recorded[next++] as ProcessResult | Error;
      return result instanceof Error
        ? { ok: false, error: result }
        : { ok: true, value: { ...result, timings: { ...timings, scanMs, recordMs } } };
    });
  }

  /**
   * Records one push's or run's findings, queues their revocations (waking the revocation stage at once) and
   * its report, in one transaction: a crash after this loses none of them.
   */
  private async record(
    job: ScanJob,
    scanned: Finding[],
    source: BreachSource,
    settings: RepoSettings,
    problem: string | undefined,
    notes: RecordNotes = {},
  ): Promise<ProcessResult> {
    const [result] = await this.recordAll([{ job, scanned, source, notes }], settings, problem);
    if (result instanceof Error || result === undefined) throw result ?? new Error("nothing was recorded");
    return result;
  }

  /**
   * Records the findings of several pushes (or runs) of one repository, queues their revocations and each one's
   * report, all in one transaction: a crash after this loses none of them, and a token found by two of them is
   * one revocation. Should that transaction fail, each is recorded in its own, so that one bad push cannot
   * hold back the others. Per item, in order: its result or its error.
   */
  private async recordAll(
    items: readonly RecordItem[],
    settings: RepoSettings,
    problem: string | undefined,
    triaged?: Promise<ReadonlySet<string>>,
  ): Promise<(ProcessResult | Error)[]> {
    if (items.length === 0) return [];
    const { store, revokers, rules } = this.deps;
    const repository = (items[0] as RecordItem).job.payload.repository.fullName;
    const kept = await this.withoutKnown(
      repository,
      items.map((item) => ({ findings: item.scanned, ignored: item.notes.ignored })),
      triaged,
    );
    const policy: RevocationPolicy = settings.revoke;
    const checker = settings.validate ? this.deps.checker : undefined;
    const all = kept.flat();
    // Policy `live` decides on the verdicts, so it waits for them; any other policy checks in the background,
    // after its revocations are queued: a slow or paced issuer never holds a scan slot or delays a revocation.
    const verdicts =
      checker && policy === "live" && all.length > 0
        ? await validateFindings(store, checker, all)
        : undefined;
    const recorded = items.flatMap((item, i) => {
      const findings = kept[i] as Finding[];
      return findings.length > 0 ? [{ item, findings, key: breachKey(repository, item.source) }] : [];
    });
    if (recorded.length === 0) return items.map(() => ({ findings: 0 }));
    let written: { acted: ActResult; reports: ({ job: { id: number }; created: boolean } | undefined)[] };
    try {
      // Findings, revocations and the reports are written together.
      written = await store.transaction(async (tx) => {
        const acted = await actOnFindings(
          tx,
          revokers,
          rules,
          recorded.flatMap((r) => r.findings),
          {
            source: repository,
            record: true,
            revoke: policy !== "off",
            match: true,
            policy,
            // A token two of them found is queued once, at the more urgent one's priority.
            priority: Math.min(...recorded.map((r) => r.item.job.priority)),
            verdicts,
            confirm: checker && ((ruleId, org) => checker.canCheck(ruleId, { org })),
            handoff: this.deps.handoff?.(),
          },
        );
        let offset = 0;
        const reports = recorded.map(({ item, findings, key }) => {
          const actions = acted.actions.slice(offset, offset + findings.length);
          offset += findings.length;
          const { payload } = item.job;
          const needsReport =
            settings.issues.enabled || (payload.type === "workflow_run" && settings.logs.delete);
          if (!needsReport) return undefined;
          const { logsProblem, ignoreProblem, orgProblem } = item.notes;
          const breach: Breach = {
            repository: {
              fullName: repository,
              htmlUrl: payload.repository.htmlUrl,
              ...(payload.repository.visibility ? { visibility: payload.repository.visibility } : {}),
            },
            source: item.source,
            findings: issueFindings(findings, { actions, pendingJobIds: [] }, verdicts).map((f, i) => ({
              ...f,
              findingId: actions[i]?.findingId ?? null,
            })),
            ...(problem ? { settingsProblem: problem } : {}),
            ...(logsProblem ? { scanProblem: logsProblem } : {}),
            ...(ignoreProblem ? { ignoreProblem } : {}),
            ...(orgProblem ? { orgSettingsProblem: orgProblem } : {}),
          };
          return {
            payload: {
              type: "breach" as const,
              installation: payload.installation,
              breachKey: key,
              breach,
              settings,
              scanJobId: item.job.id,
            },
            priority: item.job.priority,
          };
        });
        const wanted = reports.filter((r) => r !== undefined);
        const queued = await enqueueBreachReports(tx, wanted);
        let next = 0;
        return { acted, reports: reports.map((r) => (r ? queued[next++] : undefined)) };
      });
    } catch (error) {
      if (items.length === 1) return [error as Error];
      this.deps.log(
        `${repository}: recording ${items.length} scans together failed (${(error as Error).message}); recording each on its own`,
      );
      const one: (ProcessResult | Error)[] = [];
      for (const item of items) one.push(...(await this.recordAll([item], settings, problem)));
      return one;
    }
    const { acted, reports } = written;
    if (acted.pendingJobIds.length > 0) this.deps.revocationsQueued();
    if (reports.some((r) => r?.created)) this.deps.reportsQueued();
    if (checker && !verdicts)
      for (const { key, findings } of recorded)
        this.deps.checks?.start(
          key,
          () => validateFindings(store, checker, findings),
          (error) => this.deps.log(`${key}: live checks failed: ${error.message}`),
        );
    const report = new Map(recorded.map((r, i) => [r.item, reports[i]]));
    return items.map((item, i) => {
      const findings = (kept[i] as Finding[]).length;
      if (findings === 0) return { findings: 0 };
      if (!settings.issues.enabled) return { findings, skipped: "issues.enabled is off" };
      return { findings, reportJobId: report.get(item)?.job.id };
    });
  }

  /**
   * Triage feeds back: findings whose fingerprint a person resolved as a false positive or an accepted risk
   * for this repository, or that the pushed `.leakwardenignore` lists, are neither reported nor acted on.
   */
  private async withoutKnown(
    repository: string,
    scans: readonly { findings: Finding[]; ignored?: ReadonlySet<string> }[],
    /** The repository's triaged fingerprints, when they were read already. */
    read?: Promise<ReadonlySet<string>>,
  ): Promise<Finding[][]> {
    const all = scans.flatMap((s) => s.findings);
    if (all.length === 0) return scans.map((s) => s.findings);
    const triaged = await (read ??
      this.deps.store.findings.triaged(
        repository,
        all.map((f) => f.fingerprint),
      ));
    return scans.map(({ findings, ignored = new Set() }) => {
      const kept = findings.filter((f) => !ignored.has(f.fingerprint) && !triaged.has(f.fingerprint));
      const left = findings.length - kept.length;
      if (left > 0)
        this.deps.log(
          `${repository}: ${left} finding${left === 1 ? "" : "s"} left out (resolved as false positive or accepted risk, or in .leakwardenignore)`,
        );
      return kept;
    });
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
    return { findings, source, logsProblem: result.problem };
  }
}

/** One push's or run's scan, to be recorded. */
interface RecordItem {
  job: ScanJob;
  scanned: Finding[];
  source: BreachSource;
  notes: RecordNotes;
}

/** What a scan learned besides its findings, for the breach issue. */
interface RecordNotes {
  logsProblem?: string;
  /** Fingerprints the pushed `.leakwardenignore` lists. */
  ignored?: ReadonlySet<string>;
  ignoreProblem?: string;
  orgProblem?: string;
}

/**
 * Each pushed commit's own `.leakwardenignore` (reviewed false positives, committed with the code), read for
 * the whole batch in two git calls. Never fails: a file that cannot be read becomes a note.
 */
async function pushedIgnoreFiles(
  path: string,
  commits: readonly string[],
): Promise<Pick<RecordNotes, "ignored" | "ignoreProblem">[]> {
  const unused = (error: Error) => ({ ignoreProblem: `${error.message}; it was not used` });
  try {
    const read = await loadFingerprintIgnoresAt(path, commits);
    return read.map((r) => (r instanceof Error ? unused(r) : { ignored: r }));
  } catch (error) {
    return commits.map(() => unused(error as Error));
  }
}

function pushSource(push: PushScan): BreachSource {
  return {
    kind: "push",
    ref: push.ref,
    before: push.before,
    after: push.after,
    pusher: push.pusher,
    ...(push.compareUrl ? { compareUrl: push.compareUrl } : {}),
  };
}
