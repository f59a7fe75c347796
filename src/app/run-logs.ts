// A workflow run's logs: downloaded as a stream into a private temporary file (never past the size limit),
// then scanned entry by entry. A finding's file is the log's path in the archive: `job/step.txt`.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { ProbotOctokit } from "probot";
import { appendAll } from "../scan/append.js";
import type { Engine } from "../scan/engine.js";
import { scanReadable, streamReader } from "../scan/scan-source.js";
import type { Finding } from "../scan/types.js";
import {
  ArchiveError,
  type ArchiveLimits,
  ByteLimit,
  DEFAULT_ARCHIVE_LIMITS,
  readLogArchive,
} from "../sources/log-archive.js";

export interface RunRef {
  owner: string;
  repo: string;
  runId: number;
}

export interface LogScan {
  findings: Finding[];
  entries: number;
  bytes: number;
  /** Why the archive, or part of it, was refused; what was scanned before is kept. */
  problem?: string;
}

/** Downloads the run's log archive (the API answers with a redirect to the zip) into `path`. */
export async function downloadRunLogs(
  octokit: InstanceType<typeof ProbotOctokit>,
  run: RunRef,
  path: string,
  limit: number,
) {
  const response = await octokit.request("GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs", {
    owner: run.owner,
    repo: run.repo,
    run_id: run.runId,
    request: { parseSuccessResponseBody: false },
  });
  const body = response.data as unknown as WebReadableStream<Uint8Array> | null;
  if (!body) throw new ArchiveError("the log download was empty");
  const capped = new ByteLimit(limit, `download exceeds the ${limit}-byte limit`);
  await pipeline(Readable.fromWeb(body), capped, createWriteStream(path, { mode: 0o600 }));
}

/** Notes past this many are counted, not listed: the issue has room for a few. */
const MAX_NOTES = 5;

function summarize(notes: readonly string[]): string | undefined {
  if (notes.length === 0) return undefined;
  const listed = notes.slice(0, MAX_NOTES).join("; ");
  return notes.length > MAX_NOTES ? `${listed}; and ${notes.length - MAX_NOTES} more` : listed;
}

/**
 * Scans every log file of a downloaded archive, one stream at a time. An entry that cannot be read is left out
 * and the others are scanned; `problem` says what was left out.
 */
export async function scanLogArchive(engine: Engine, path: string, limits: ArchiveLimits): Promise<LogScan> {
  const findings: Finding[] = [];
  let bytes = 0;
  let archive: Awaited<ReturnType<typeof readLogArchive>>;
  try {
    archive = await readLogArchive(path, limits);
  } catch (error) {
    if (error instanceof ArchiveError) return { findings, entries: 0, bytes, problem: error.message };
    throw error;
  }
  const notes = archive.notes.map((note) => note.text);
  try {
    for (const entry of archive.entries) {
      try {
        const outcome = await scanReadable(engine, streamReader(entry.open()), entry.name);
        appendAll(findings, outcome.findings);
        bytes += outcome.bytes;
      } catch (error) {
        if (!(error instanceof ArchiveError)) throw error;
        notes.push(error.message);
      }
    }
  } finally {
    await archive.close();
  }
  const problem = summarize(notes);
  return { findings, entries: archive.entries.length, bytes, ...(problem ? { problem } : {}) };
}

/** Download and scan, in a temporary folder that is always removed. */
export async function scanRunLogs(
  octokit: InstanceType<typeof ProbotOctokit>,
  engine: Engine,
  run: RunRef,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<LogScan> {
  const folder = await mkdtemp(join(tmpdir(), "leakwarden-logs-"));
  try {
    const path = join(folder, "logs.zip");
    await downloadRunLogs(octokit, run, path, limits.maxCompressedBytes);
    return await scanLogArchive(engine, path, limits);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
