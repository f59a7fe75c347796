// Reads `git log -p` and `git diff` output as it streams, byte by byte, and hands over what each file change
// added: the new lines of its hunks, with their line numbers in the new file. Memory stays bounded whatever
// the history: a file change's added bytes go out in pieces of at most maxFileSize (each piece begins with
// the end of the previous one, as context), and one pending line; only a single line longer than
// maxFileSize cannot be held, and is skipped and counted.
//
// The output it expects is what LOG_PATCH_ARGS and STAGED_PATCH_ARGS ask git for (git.ts adds settings that
// override the user's configuration): commit headers `\0<sha>\0<name>\0<email>\0<date>`, zero-context hunks,
// combined diffs for merges, `a/` and `b/` prefixes, paths unquoted unless git must quote them.

import { BINARY_PROBE, type ContentKind, contentKind } from "./content-kind.js";

const DIFF_ARGS = [
  "-p",
  "-U0", // added lines are all we scan; hunk headers give their line numbers
  "--inter-hunk-context=0",
  "-M", // a pure rename adds no lines
  // Which lines count as added, whatever diff.algorithm says: a scan by blobs relies on Myers keeping the
  // lines both versions share at the start and the end (see changedRegion).
  "--diff-algorithm=myers",
  "--no-color",
  "--no-ext-diff",
  "--no-textconv", // the bytes committed, not a rendering of them
  // Every change as text, whatever git or .gitattributes think of either side: a file whose old version was
  // binary (or marked -diff) would otherwise be "Binary files differ", and a token added to it never scanned.
  // Whether the new side is binary is decided here, from its own content (see PatchParser.newSideIsBinary).
  "--text",
  "--full-index", // the new blob's full name, to look at it when the added lines cannot tell
  "--ignore-submodules=all", // a submodule pointer is not content
  "--src-prefix=a/",
  "--dst-prefix=b/",
  "--no-relative",
];

/**
 * `git log` arguments; revisions follow (or come through --stdin). Merges get a dense combined diff (--cc):
 * only lines that differ from every parent show up, so a plain merge adds nothing and a conflict resolution
 * does. --topo-order lists a commit after all its descendants: the last occurrence of a secret is its oldest.
 */
export const LOG_PATCH_ARGS = [
  "log",
  "--format=tformat:%x00%H%x00%an%x00%ae%x00%aI",
  "--topo-order",
  "--cc",
  ...DIFF_ARGS,
];

/** `git diff` arguments for what is staged (a pre-commit hook's view). */
export const STAGED_PATCH_ARGS = ["diff", "--cached", ...DIFF_ARGS];

const NL = 10;
const NUL = 0;
const PLUS = 43;
const MINUS = 45;
const SPACE = 32;
const BACKSLASH = 92;
const AT = 64;
const C = 99;
const D = 100;
const I = 105;
const M = 109;
const N = 110;
const R = 114;

const DIFF = Buffer.from("diff ");
const DIFF_GIT = Buffer.from("diff --git ");
const DIFF_CC = Buffer.from("diff --cc ");
const DIFF_COMBINED = Buffer.from("diff --combined ");
const NEW_PATH = Buffer.from("+++ ");
const RENAME_TO = Buffer.from("rename to ");
const COPY_TO = Buffer.from("copy to ");
const INDEX = Buffer.from("index ");
/** Header lines that carry a file mode; 160000 is a submodule pointer (a gitlink). */
const MODE_LINES = ["index ", "new file mode ", "deleted file mode ", "new mode ", "mode "].map((s) =>
  Buffer.from(s),
);
const GITLINK_MODE = Buffer.from("160000");

/** A line of a few megabytes is possible (minified code); beyond the size limit its content no longer matters. */
const LINE_SLACK = 64 * 1024;
/** The collecting buffer shrinks back to this after a large file change. */
const KEPT_CAPACITY = 1024 * 1024;

export interface CommitInfo {
  commit: string;
  /** `Name <email>` */
  author: string;
  /** ISO 8601, as git prints %aI. */
  date: string;
}

/** bytes[start, end) holds consecutive lines of the new file, the first of which is `firstLine` (1-based). */
export interface AddedLines {
  start: number;
  end: number;
  firstLine: number;
}

export interface FileChange {
  /** The path in the new version (after a rename). */
  path: string;
  /** Valid only during the `file` call: the buffer is reused. */
  bytes: Buffer;
  segments: readonly AddedLines[];
  /**
   * A later piece of a large file change: bytes[0, scanFrom) end the previous piece, and are here as
   * context only (what starts there was reported with it). 0 in a first piece.
   */
  scanFrom: number;
  /** A later piece of a file change already handed over: not a new file change. */
  continued: boolean;
  /** Set when the new version is UTF-16 text: the bytes are as git cut them (see decodeUtf16Lines). */
  encoding?: "utf-16le" | "utf-16be";
}

export type SkipReason = "binary" | "tooLarge" | "ignored";

export interface PatchHandler {
  commit(info: CommitInfo): void;
  file(change: FileChange): void;
  skip(path: string, reason: SkipReason): void;
  /**
   * What a blob holds (binary: a NUL in its first 8000 bytes, unless it is UTF-16 text), asked only when the
   * added lines cannot tell: a NUL among them, but not the file's first 8000 bytes. Without it such a change
   * is scanned as text.
   */
  blobKind?(blob: string): ContentKind;
  /** Whether a path is scanned at all; when false its lines are dropped and it is counted as ignored. */
  wants?(path: string): boolean;
}

function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  return (
    end - start >= prefix.length && buf.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0
  );
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/** Decodes a path as git writes it: plain, or C-quoted ("a\tb", "\303\251" octal bytes) when it must be. */
export function unquotePath(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  const bytes: number[] = [];
  for (let i = 1; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '"') break;
    if (c !== "\\") {
      const char = String.fromCodePoint(raw.codePointAt(i) as number);
      bytes.push(...Buffer.from(char, "utf8"));
      i += char.length - 1;
      continue;
    }
    const next = raw[++i] ?? "";
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(raw.slice(i, i + 3), 8));
      i += 2;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The path of a `+++ b/path` or `rename to path` line, or undefined for /dev/null. */
function pathAfter(text: string, prefix: string): string | undefined {
  // Git ends the name with a tab when it holds a space, for patch(1).
  const raw = text.endsWith("\t") ? text.slice(0, -1) : text;
  if (raw === "/dev/null") return undefined;
  const path = unquotePath(raw);
  return prefix && path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** `diff --git a/x b/x`: the path when both sides agree (renames are named by later lines). */
function pathOfDiffLine(rest: string): string | undefined {
  if (rest.startsWith('"')) {
    // The first name is quoted: skip it, escapes included, and read the second.
    let end = 1;
    while (end < rest.length && rest[end] !== '"') end += rest[end] === "\\" ? 2 : 1;
    return pathAfter(rest.slice(end + 2), "b/");
  }
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest.startsWith("a/") && rest.slice(half + 1) === `b/${rest.slice(2, half)}`)
    return rest.slice(2, half);
  return undefined;
}

/** The new blob of `index <old>..<new> [mode]` (or `<old>,<old>..<new>` in a combined diff). */
function newBlobOf(line: string): string | undefined {
  return /\.\.([0-9a-f]+)/.exec(line)?.[1];
}

const HUNK_HEADER = /^(@{2,}) (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? @{2,}/;

export class PatchParser {
  private inHunk = false;
  /** Prefix columns of a hunk's body lines: 1, or one per parent in a merge's combined diff. */
  private columns = 1;
  /** The new-file line number of the next body line that is part of the new file. */
  private newLine = 0;

  private fileOpen = false;
  private path: string | undefined;
  private collecting = false;
  private gitlink = false;
  /** The new side's blob name, from the `index` line. */
  private blob: string | undefined;
  private added: Buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;
  private segments: AddedLines[] = [];
  private nextLine = 0;
  /** Pieces of the current file change handed over so far, and where the current one's own bytes start. */
  private pieces = 0;
  private scanFrom = 0;
  /** A line of the current file change was too long to hold: counted once. */
  private lineTooLarge = false;
  /** What the new version holds, decided when the first piece is handed over. */
  private kind: ContentKind = "text";

  /** A line cut by the end of a chunk: its first bytes (up to a cap) and its true length. */
  private pending: Buffer = Buffer.allocUnsafe(4096);
  private pendingLength = 0;
  private pendingTotal = 0;

  constructor(
    private readonly handler: PatchHandler,
    private readonly maxFileSize: number,
    /** How much of a piece's end the next piece repeats, so that no match or its context is cut. */
    private readonly overlap = 64 * 1024,
  ) {}

  /** Parses the next piece of output; lines may be cut anywhere between two calls. */
  write(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    if (this.pendingTotal > 0) {
      const nl = chunk.indexOf(NL);
      if (nl === -1) {
        this.hold(chunk, 0, n);
        return;
      }
      this.hold(chunk, 0, nl);
      this.line(this.pending, 0, this.pendingLength, this.pendingTotal);
      this.pendingLength = 0;
      this.pendingTotal = 0;
      pos = nl + 1;
    }
    while (pos < n) {
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        this.hold(chunk, pos, n);
        return;
      }
      this.line(chunk, pos, nl, nl - pos);
      pos = nl + 1;
    }
  }

  /** The output is complete: a last line without a newline is parsed, the last file change handed over. */
  end(): void {
    if (this.pendingTotal > 0) this.line(this.pending, 0, this.pendingLength, this.pendingTotal);
    this.pendingLength = 0;
    this.pendingTotal = 0;
    this.finishFile();
  }

  private hold(chunk: Buffer, from: number, to: number): void {
    const cap = this.maxFileSize + LINE_SLACK;
    const keep = Math.min(to - from, cap - this.pendingLength);
    if (keep > 0) {
      if (this.pendingLength + keep > this.pending.length) {
        const grown = Buffer.allocUnsafe(
          Math.min(cap, Math.max(this.pending.length * 2, this.pendingLength + keep)),
        );
        this.pending.copy(grown, 0, 0, this.pendingLength);
        this.pending = grown;
      }
      chunk.copy(this.pending, this.pendingLength, from, from + keep);
      this.pendingLength += keep;
    }
    this.pendingTotal += to - from;
  }

  /** One line, without its newline: buf[start, end) holds its first bytes, `total` is its true length. */
  private line(buf: Buffer, start: number, end: number, total: number): void {
    if (this.inHunk) {
      const first = end > start ? buf[start] : NL;
      if (first === PLUS || first === MINUS || first === SPACE || first === BACKSLASH) {
        this.body(buf, start, end, total);
        return;
      }
      this.inHunk = false;
    }
    this.header(buf, start, end);
  }

  private body(buf: Buffer, start: number, end: number, total: number): void {
    const columns = this.columns;
    if (columns === 1) {
      const first = buf[start];
      if (first === PLUS) this.add(buf, start + 1, end, total - 1);
      else if (first === SPACE) this.newLine++;
      return; // removed lines and "\ No newline at end of file" are not in the new file
    }
    // A combined diff has one column per parent: a '-' in any means the line is not in the merge result;
    // '+' in every column means it is in no parent: the merge itself introduced it (a conflict resolution).
    if (buf[start] === BACKSLASH || end - start < columns) return;
    let plus = 0;
    for (let i = start; i < start + columns; i++) {
      const c = buf[i];
      if (c === MINUS) return;
      if (c === PLUS) plus++;
    }
    if (plus === columns) this.add(buf, start + columns, end, total - columns);
    else this.newLine++;
  }

  /** Appends one added line (and a newline) to the current file change; a full buffer goes out as a piece. */
  private add(buf: Buffer, from: number, to: number, size: number): void {
    const line = this.newLine++;
    if (!this.collecting) return;
    if (size + 1 > this.maxFileSize) {
      if (this.inBinary(buf.subarray(from, to), line)) {
        // A binary file without newlines (an image of zeros) is one huge "line": binary, not unscannable.
        this.handler.skip(this.path as string, "binary");
        this.collecting = false;
      } else if (!this.lineTooLarge) this.handler.skip(this.path as string, "tooLarge");
      this.lineTooLarge = true;
      return;
    }
    if (this.length + size + 1 > this.maxFileSize) {
      if (this.length > this.scanFrom) this.handOver();
      if (!this.collecting) return; // its new side is binary
      this.carry(this.maxFileSize - size - 1);
    }
    const needed = this.length + (to - from) + 1;
    if (needed > this.added.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.added.length * 2, needed));
      this.added.copy(grown, 0, 0, this.length);
      this.added = grown;
    }
    let segment = this.segments[this.segments.length - 1];
    if (!segment || segment.end !== this.length || this.nextLine !== line) {
      segment = { start: this.length, end: this.length, firstLine: line };
      this.segments.push(segment);
    }
    this.length += buf.copy(this.added, this.length, from, to);
    this.added[this.length++] = NL;
    segment.end = this.length;
    this.nextLine = line + 1;
  }

  /** A line outside hunk bodies; dispatched on its first byte, since most are `index`, `---` and `+++`. */
  private header(buf: Buffer, start: number, end: number): void {
    if (end === start) return;
    const first = buf[start];
    if (first === NUL) {
      this.finishFile();
      this.commit(buf.toString("utf8", start + 1, end));
      return;
    }
    if (first === D && startsWith(buf, start, end, DIFF)) {
      this.finishFile();
      this.startFile(buf, start, end);
      return;
    }
    if (!this.fileOpen) return; // between a commit header and its first file: nothing of interest
    switch (first) {
      case AT:
        this.hunkHeader(buf.toString("latin1", start, Math.min(end, start + 256)));
        return;
      case PLUS:
        if (startsWith(buf, start, end, NEW_PATH))
          this.choosePath(pathAfter(buf.toString("utf8", start + NEW_PATH.length, end), "b/"));
        return;
      case R:
      case C: {
        const prefix = first === R ? RENAME_TO : COPY_TO;
        if (startsWith(buf, start, end, prefix))
          this.path = pathAfter(buf.toString("utf8", start + prefix.length, end), "") ?? this.path;
        return;
      }
      case I:
      case N:
      case D:
      case M:
        if (first === I && startsWith(buf, start, end, INDEX))
          this.blob = newBlobOf(buf.toString("latin1", start, Math.min(end, start + 256)));
        if (
          MODE_LINES.some((prefix) => startsWith(buf, start, end, prefix)) &&
          buf.subarray(start, end).includes(GITLINK_MODE)
        )
          this.gitlink = true;
        return;
    }
  }

  private hunkHeader(text: string): void {
    const match = HUNK_HEADER.exec(text);
    if (!match) return;
    this.inHunk = true;
    this.columns = (match[1] as string).length - 1;
    this.newLine = Number(match[2]);
  }

  private commit(fields: string): void {
    const [commit = "", name = "", email = "", date = ""] = fields.split("\0");
    this.handler.commit({ commit, author: `${name} <${email}>`, date });
  }

  private startFile(buf: Buffer, start: number, end: number): void {
    this.fileOpen = true;
    this.gitlink = false;
    this.blob = undefined;
    this.collecting = false;
    this.resetCollected();
    if (startsWith(buf, start, end, DIFF_GIT)) {
      this.path = pathOfDiffLine(buf.toString("utf8", start + DIFF_GIT.length, end));
    } else {
      const prefix = startsWith(buf, start, end, DIFF_CC) ? DIFF_CC : DIFF_COMBINED;
      this.path = pathAfter(buf.toString("utf8", start + prefix.length, end), "");
    }
  }

  /** The `+++` line names the new file: from here on its added lines are collected, unless it is ignored. */
  private choosePath(path: string | undefined): void {
    this.path = path ?? this.path;
    if (path === undefined || this.gitlink) return; // deleted file, or a submodule pointer
    if (this.handler.wants?.(path) === false) {
      this.handler.skip(path, "ignored");
      return;
    }
    this.collecting = true;
  }

  /**
   * Decided from the new content alone, as git decides for a file: a NUL in its first 8000 bytes. Added lines
   * that start at line 1 show those bytes; otherwise a NUL among the added lines sends the question to the
   * blob itself, and added lines without any NUL are scanned (text lines added to a binary file are too).
   */
  /** Whether a line too long to hold (its first bytes in `held`) belongs to a binary new version. */
  private inBinary(held: Buffer, line: number): boolean {
    if (this.pieces > 0) return false; // decided on the first piece: text
    const first = this.segments[0];
    const fromStart =
      this.length === 0
        ? line === 1
        : this.segments.length === 1 && first?.firstLine === 1 && this.nextLine === line;
    if (fromStart) {
      // The file's first bytes: what was collected, then this line.
      const head = Buffer.concat([
        this.added.subarray(0, Math.min(this.length, BINARY_PROBE)),
        held.subarray(0, BINARY_PROBE),
      ]);
      return contentKind(head.subarray(0, BINARY_PROBE)) === "binary";
    }
    if (!held.includes(NUL) && !this.added.subarray(0, this.length).includes(NUL)) return false;
    return this.blob !== undefined && this.handler.blobKind?.(this.blob) === "binary";
  }

  private newSideKind(): ContentKind {
    const first = this.segments[0] as AddedLines;
    if (first.firstLine === 1) {
      const head = this.added.subarray(first.start, Math.min(first.end, first.start + BINARY_PROBE));
      const kind = contentKind(head);
      if (kind !== "text" || head.length === BINARY_PROBE) return kind;
    }
    if (!this.added.subarray(0, this.length).includes(NUL)) return "text";
    return (this.blob !== undefined && this.handler.blobKind?.(this.blob)) || "text";
  }

  /** Hands over what was collected, or counts the change as binary (decided on its first piece). */
  private handOver(): void {
    if (this.pieces === 0) this.kind = this.newSideKind();
    if (this.kind === "binary") {
      this.handler.skip(this.path as string, "binary");
      this.collecting = false;
      return;
    }
    this.handler.file({
      path: this.path as string,
      bytes: this.added.subarray(0, this.length),
      segments: this.segments,
      scanFrom: this.scanFrom,
      continued: this.pieces > 0,
      ...(this.kind === "text" ? {} : { encoding: this.kind }),
    });
    this.pieces++;
  }

  /** Starts the next piece with the last whole lines of the previous one (at most `room` bytes) as context. */
  private carry(room: number): void {
    const last = this.segments[this.segments.length - 1] as AddedLines;
    let from = Math.max(last.start, this.length - Math.min(this.overlap, room));
    // Every collected line ends with a newline: the first line start at or after `from`.
    if (from > last.start) from = this.added.indexOf(NL, from - 1) + 1;
    let firstLine = last.firstLine;
    for (
      let nl = this.added.indexOf(NL, last.start);
      nl !== -1 && nl < from;
      nl = this.added.indexOf(NL, nl + 1)
    )
      firstLine++;
    this.added.copy(this.added, 0, from, this.length);
    this.length -= from;
    this.segments = this.length > 0 ? [{ start: 0, end: this.length, firstLine }] : [];
    this.scanFrom = this.length;
  }

  private resetCollected(): void {
    this.length = 0;
    this.segments = [];
    this.pieces = 0;
    this.scanFrom = 0;
    this.lineTooLarge = false;
    this.kind = "text";
  }

  private finishFile(): void {
    if (!this.fileOpen) return;
    this.fileOpen = false;
    this.inHunk = false;
    if (this.collecting && this.length > this.scanFrom) this.handOver();
    this.collecting = false;
    this.resetCollected();
    if (this.added.length > KEPT_CAPACITY) this.added = Buffer.allocUnsafe(KEPT_CAPACITY);
  }
}
