// The opt-in `text.redact` setting: edit a comment, issue or release note so that each leaked token shows as
// its redacted preview, and say so in the text. It is a GitHub write, so it is a report-stage job, paced per
// installation. The job holds the tokens' hashes only: the stage reads the text again, finds the tokens with
// the engine, and replaces those whose hash it was given.
import type { ProbotOctokit } from "probot";
import { RetryAfter } from "../jobs/stage.js";
import type { Engine } from "../scan/engine.js";
import { redact } from "../scan/redact.js";
import { secretHash } from "../scan/secret.js";
import { readText, type TextParts, type TextRef, writeText } from "../sources/github-text.js";
import type { Store } from "../store/index.js";
import type { JobRecord } from "../store/jobs.js";
import type { WritePacer } from "./pacing.js";
import { installationQueue, REPORT_KIND, REPORT_MAX_ATTEMPTS } from "./report-jobs.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface RedactReport {
  type: "redact";
  installation: number;
  repository: string;
  text: TextRef;
  /** The tokens to replace, by hash. */
  secretHashes: string[];
}

/** The line leakwarden adds to a text it edited; found again, it is not added twice. */
export const REDACTION_NOTE =
  "_leakwarden replaced a leaked credential in this text with its redacted preview. The credential must still be revoked and replaced._";

/** Queues the redaction of a text version; idempotent. Call inside the scan's transaction. */
export function enqueueRedaction(store: Store, payload: RedactReport, version: string, priority: number) {
  return store.jobs.enqueue<RedactReport>({
    kind: REPORT_KIND,
    key: `${REPORT_KIND}:redact:${payload.repository}:${payload.text.kind}:${payload.text.id}:${version}`,
    queue: installationQueue(payload.installation),
    payload,
    maxAttempts: REPORT_MAX_ATTEMPTS,
    priority,
  });
}

export function isRedactReport(job: JobRecord<unknown>): job is JobRecord<RedactReport> {
  return (job.payload as { type?: string } | null)?.type === "redact";
}

/**
 * `text` with every token the engine finds whose hash is in `hashes` replaced by its preview, and every other
 * occurrence of those tokens too; `replaced` counts the tokens.
 */
export function redactText(
  engine: Engine,
  text: string,
  hashes: ReadonlySet<string>,
): { text: string; replaced: number } {
  const bytes = Buffer.from(text, "utf8");
  const spans = engine
    .detect(bytes)
    .filter((d) => hashes.has(secretHash(d.secret)))
    .sort((a, b) => a.start - b.start);
  if (spans.length === 0) return { text, replaced: 0 };
  const pieces: Buffer[] = [];
  const tokens = new Map<string, string>();
  let at = 0;
  for (const d of spans) {
    if (d.start < at) continue; // overlaps one already replaced
    const preview = redact(d.secret, d.rule.rule.prefix);
    tokens.set(d.secret, preview);
    pieces.push(bytes.subarray(at, d.start), Buffer.from(preview, "utf8"));
    at = d.end;
  }
  pieces.push(bytes.subarray(at));
  let out = Buffer.concat(pieces).toString("utf8");
  // The same token elsewhere in the text (a line the engine judged without context) goes too.
  for (const [token, preview] of tokens) out = out.split(token).join(preview);
  return { text: out, replaced: tokens.size };
}

/** The permission each edit needs (app.yml asks for all but contents: write). */
const PERMISSION_HINT: Record<TextRef["kind"], string> = {
  release: "editing a release note needs the App's contents: write permission",
  commit_comment: "editing a commit comment needs the App's contents: write permission",
  pull_request: "editing a pull request needs the App's pull_requests: write permission",
  review_comment: "editing a review comment needs the App's pull_requests: write permission",
  discussion: "editing a discussion needs the App's discussions: write permission",
  discussion_comment: "editing a discussion comment needs the App's discussions: write permission",
  issue: "editing an issue needs the App's issues: write permission",
  issue_comment: "editing a comment needs the App's issues: write permission",
};

/** GitHub refused the edit: a REST 403, or a GraphQL FORBIDDEN error (discussions). */
function isRefusal(error: unknown): boolean {
  const failure = error as { status?: number; errors?: { type?: string }[] };
  return failure.status === 403 || (failure.errors ?? []).some((e) => e.type === "FORBIDDEN");
}

export interface RedactorDeps {
  store: Store;
  octokitFor(installation: number): Promise<Octokit>;
  pacer: WritePacer;
  /** An engine with every rule: it finds the tokens again. */
  engine: Engine;
  log: (message: string) => void;
}

export class TextRedactor {
  constructor(private readonly deps: RedactorDeps) {}

  async process(job: JobRecord<RedactReport>): Promise<void> {
    const { text: ref, secretHashes, repository } = job.payload;
    const octokit = this.deps.pacer.pace(await this.deps.octokitFor(job.payload.installation), job.queue);
    const hashes = new Set(secretHashes);
    let current: TextParts | null;
    try {
      current = await readText(octokit, ref);
    } catch (error) {
      if (error instanceof RetryAfter) throw error;
      throw new Error(
        `could not read the ${ref.kind} to redact it: ${(error as Error).message.split("\n")[0]}`,
      );
    }
    if (!current) {
      this.deps.log(`${repository}: the ${ref.kind} ${ref.id} is gone: nothing to redact`);
      return;
    }
    const body = redactText(this.deps.engine, current.body, hashes);
    const title =
      current.title !== undefined ? redactText(this.deps.engine, current.title, hashes) : undefined;
    const replaced = body.replaced + (title?.replaced ?? 0);
    if (replaced === 0) {
      this.deps.log(`${repository}: the ${ref.kind} ${ref.id} no longer holds the token: nothing to redact`);
      return;
    }
    const note = body.text.includes(REDACTION_NOTE) ? "" : `\n\n${REDACTION_NOTE}`;
    try {
      await writeText(octokit, ref, {
        body: `${body.text}${note}`,
        ...(title && title.replaced > 0 ? { title: title.text } : {}),
      });
    } catch (error) {
      if (error instanceof RetryAfter) throw error;
      // A rate limit came through as RetryAfter (pacing.ts): a 403 here is a permission the App lacks
      // (release notes and commit comments need contents: write), which no retry will change.
      if (!isRefusal(error)) throw error;
      await this.deps.store.audit.record({
        action: "text.redact-refused",
        subject: ref.url,
        detail: { kind: ref.kind, reason: PERMISSION_HINT[ref.kind] },
      });
      this.deps.log(
        `${repository}: could not redact the ${ref.kind} ${ref.url}: GitHub refused the edit; ${PERMISSION_HINT[ref.kind]}`,
      );
      return;
    }
    await this.deps.store.audit.record({
      action: "text.redact",
      subject: ref.url,
      detail: { kind: ref.kind, tokens: replaced },
    });
    this.deps.log(`${repository}: redacted ${replaced} token(s) in the ${ref.kind} ${ref.url}`);
  }
}
