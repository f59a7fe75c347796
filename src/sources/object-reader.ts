// `git cat-file --batch` over a long run of objects: names go in as the caller finds them, answers come out in
// order through `onData`. The answers pass through a temporary file (file-output.ts) that git can run far
// ahead in; so that the file does not grow with the history, once a cat-file has handed over SEGMENT_BYTES
// the next names go to a new one on a new file, whose answers are handed over after the last one's.
import { collect } from "./child-output.js";
import type { GitRepository, ReadingChild } from "./git.js";
import { BLOB_READ_ARGS } from "./git-blobs.js";

/** Bytes one cat-file hands over before the next names go to a new one (and a new temporary file). */
const SEGMENT_BYTES = 256 * 1024 * 1024;

interface Segment extends ReadingChild {
  /** Resolves once all it wrote was handed over and it exited well; rejects with what went wrong. */
  finished: Promise<void>;
}

export class ObjectReader {
  private readonly segments: Segment[] = [];
  private closed = false;

  constructor(
    private readonly repo: GitRepository,
    private readonly onData: (bytes: Buffer) => void,
    /** Told of the first failure as soon as it happens (`end` rejects with it too). */
    private readonly fail: (error: unknown) => void,
    /** The error for a failed cat-file (the repository's own, or one a thread can pass on). */
    private readonly failure: (command: string, output: string) => Error,
    private readonly signal?: AbortSignal,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {
    // Started at once: git's start-up overlaps the walk's, instead of waiting for the first names.
    this.startSegment(undefined);
  }

  /** Asks for these objects, after every one asked before. */
  read(names: readonly string[]): void {
    if (names.length === 0 || this.closed) return;
    let segment = this.segments.at(-1) as Segment;
    if (segment.delivered() >= this.segmentBytes) {
      segment.child.stdin.end();
      segment = this.startSegment(segment.finished);
    }
    segment.child.stdin.write(`${names.join("\n")}\n`);
  }

  /** No more names: resolves once every answer was handed over and each cat-file exited well. */
  async end(): Promise<void> {
    this.segments.at(-1)?.child.stdin.end();
    for (const segment of this.segments) await segment.finished;
  }

  close(): void {
    this.closed = true;
    for (const segment of this.segments) {
      segment.child.kill();
      segment.close();
    }
  }

  /** cat-files started so far. */
  get segmentCount(): number {
    return this.segments.length;
  }

  private startSegment(previous: Promise<void> | undefined): Segment {
    const reading = this.repo.startReading(BLOB_READ_ARGS, this.onData, this.signal, previous);
    const stderr = collect(reading.child.stderr);
    const finished = reading.exit.then(
      async (code) => {
        if (code !== 0) throw this.failure("cat-file", withFolder(stderr(), reading.folder));
        await reading.ended;
      },
      (error: Error) => {
        if (error.name === "AbortError") throw error;
        throw this.failure("cat-file", `cannot run git: ${error.message}`);
      },
    );
    finished.catch((error) => this.fail(error));
    const segment = { ...reading, finished };
    this.segments.push(segment);
    return segment;
  }
}

/**
 * git's words when it could not write its answers ("unable to stream ... to stdout", "write error"), with where
 * they were going: a temporary folder that is full is the usual cause, and TMPDIR chooses another.
 */
function withFolder(output: string, folder: string | undefined): string {
  const first = output.trim().split("\n")[0] ?? "";
  if (folder === undefined || !/stdout|write error|no space/i.test(first)) return output;
  return `${first} (its answers go through a temporary file in ${folder}: if that folder is full, set TMPDIR to another)`;
}
