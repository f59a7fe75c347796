// The text stage's work: read the text (or the secret scanning alert) from GitHub, scan it with the same engine
// as a push, and hand the findings to the same record-revoke-report path. It never writes to GitHub: the
// report stage does, at GitHub's pace (the breach issue, and the redaction when the repository asks for it).
import type { ProbotOctokit } from "probot";
import type { ActResult } from "../revoke/act.js";
import type { Engine } from "../scan/engine.js";
import { locate } from "../scan/locate.js";
import { createEngine } from "../scan/settings.js";
import type { Finding } from "../scan/types.js";
import { readText, TEXT_KIND_NAMES, type TextParts } from "../sources/github-text.js";
import type { Store } from "../store/index.js";
import { readRepoSettings } from "./processor.js";
import type { RepoSettings } from "./repo-settings.js";
import { processSecretAlert } from "./secret-scanning.js";
import { actOnTextFindings, type TextActDeps } from "./text-act.js";
import type { TextScan, TextScanJob } from "./text-jobs.js";
import { enqueueRedaction } from "./text-redact.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface TextScanDeps extends TextActDeps {
  octokitFor(installation: number): Promise<Octokit>;
}

export interface TextScanResult {
  findings: number;
  reported: number;
  skipped?: string;
}

/** Scans a text's title (its findings on line 0) and body; each finding's location is the text's page. */
export function scanTextParts(engine: Engine, parts: TextParts, url: string, author: string): Finding[] {
  const found: Finding[] = [];
  const scan = (text: string, firstLine: number) => {
    const bytes = Buffer.from(text, "utf8");
    const detections = engine.detect(bytes);
    if (detections.length > 0)
      for (const f of locate(bytes, detections, { file: url, firstLine }))
        found.push(author ? { ...f, author } : f);
  };
  if (parts.title) scan(parts.title.replace(/\r?\n/g, " "), 0);
  scan(parts.body, 1);
  return found;
}

export class TextScanProcessor {
  /** One engine per set of disabled rules, as for pushes. */
  private readonly engines = new Map<string, Engine>();

  constructor(private readonly deps: TextScanDeps) {}

  engineFor(settings: Pick<RepoSettings, "disabledRules">): Engine {
    const key = [...settings.disabledRules].sort().join(",");
    let engine = this.engines.get(key);
    if (!engine) {
      engine = createEngine({ ruleDirs: [], disabledRules: settings.disabledRules, allow: [] });
      this.engines.set(key, engine);
    }
    return engine;
  }

  private actDeps(): TextActDeps {
    return this.deps;
  }

  async process(job: TextScanJob): Promise<TextScanResult> {
    const payload = job.payload;
    const octokit = await this.deps.octokitFor(payload.installation);
    const { owner, name } = payload.repository;
    const { settings, problem } = await readRepoSettings(octokit, owner, name, this.deps.rules);
    if (payload.type === "secret_scanning_alert")
      return processSecretAlert(
        { ...this.actDeps(), engine: this.engineFor({ disabledRules: [] }) },
        octokit,
        { ...job, payload },
        settings,
        problem,
      );
    return this.scanText(octokit, { ...job, payload }, settings, problem);
  }

  private async scanText(
    octokit: Octokit,
    job: TextScanJob & { payload: TextScan },
    settings: RepoSettings,
    problem: string | undefined,
  ): Promise<TextScanResult> {
    const { payload } = job;
    if (!settings.scan.text) return { findings: 0, reported: 0, skipped: "scan.text is off" };
    const parts = await readText(octokit, payload.text);
    if (!parts) return { findings: 0, reported: 0, skipped: `the ${payload.text.kind} is gone` };
    const findings = scanTextParts(this.engineFor(settings), parts, payload.text.url, payload.author);
    if (findings.length === 0) return { findings: 0, reported: 0 };
    const what = TEXT_KIND_NAMES[payload.text.kind];
    // A token triaged as a false positive is not one: the text keeps it.
    const redactable = async (tx: Store, acted: ActResult) => {
      const kept = [];
      for (const [i, f] of findings.entries()) {
        const id = acted.actions[i]?.findingId;
        const record = typeof id === "number" ? await tx.findings.byId(id) : undefined;
        if (record?.resolution !== "false-positive") kept.push(f);
      }
      return kept;
    };
    const redact = settings.text.redact
      ? async (tx: Store, acted: ActResult) => {
          const kept = await redactable(tx, acted);
          if (kept.length === 0) return false;
          const queued = await enqueueRedaction(
            tx,
            {
              type: "redact",
              installation: payload.installation,
              repository: payload.repository.fullName,
              text: payload.text,
              secretHashes: [...new Set(kept.map((f) => f.secretHash))],
            },
            payload.version,
            job.priority,
          );
          return queued.created;
        }
      : undefined;
    const result = await actOnTextFindings(
      this.actDeps(),
      {
        installation: payload.installation,
        repository: payload.repository,
        source: {
          kind: "text",
          what,
          url: payload.text.url,
          author: payload.author,
          version: payload.version,
        },
        findings,
        settings,
        ...(problem ? { settingsProblem: problem } : {}),
        // A created text has reported nothing yet; an edited one reports only tokens it did not hold before.
        onlyNew: true,
        scanJobId: job.id,
        priority: job.priority,
      },
      redact,
    );
    return { findings: result.findings, reported: result.reported };
  }
}
