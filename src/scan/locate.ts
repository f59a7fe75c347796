// Turns byte spans into findings: 1-based lines and columns, redaction, hashes and fingerprints.
import type { Detection } from "./engine.js";
import { fingerprint, redact } from "./redact.js";
import { Secret, secretHash } from "./secret.js";
import type { Finding } from "./types.js";

const NEWLINE = 10;
const ALLOW_MARKER = "leakwarden:allow";

export interface Origin {
  file: string;
  /** Line and column of the buffer's first byte (1 and 1 unless this is a later chunk of a file). */
  firstLine?: number;
  firstColumn?: number;
}

/** Walks a buffer once, front to back, answering line and column questions for increasing offsets. */
class LineCursor {
  private offset = 0;
  private line: number;
  private lineStart = 0;
  /** Column of lineStart: only the buffer's first line can start mid-line. */
  private startColumn: number;

  constructor(
    private readonly bytes: Buffer,
    private readonly firstLine: number,
    private readonly firstColumn: number,
  ) {
    this.line = firstLine;
    this.startColumn = firstColumn;
  }

  /** The 1-based line and column (in characters, UTF-8 decoded) of a byte offset at or after the last one asked. */
  at(offset: number): { line: number; column: number; lineStart: number } {
    if (offset < this.offset) this.rewind();
    for (
      let nl = this.bytes.indexOf(NEWLINE, this.offset);
      nl !== -1 && nl < offset;
      nl = this.bytes.indexOf(NEWLINE, nl + 1)
    ) {
      this.line++;
      this.lineStart = nl + 1;
      this.startColumn = 1;
    }
    this.offset = Math.max(this.offset, offset);
    let column = this.startColumn;
    for (let i = this.lineStart; i < offset; i++) if (((this.bytes[i] as number) & 0xc0) !== 0x80) column++;
    return { line: this.line, column, lineStart: this.lineStart };
  }

  private rewind(): void {
    this.line = this.firstLine;
    this.startColumn = this.firstColumn;
    this.offset = 0;
    this.lineStart = 0;
  }
}

function lineEnd(bytes: Buffer, from: number): number {
  const nl = bytes.indexOf(NEWLINE, from);
  return nl === -1 ? bytes.length : nl;
}

/** Whether the line holding `lineStart` carries an inline `leakwarden:allow` comment. */
function allowedInline(bytes: Buffer, lineStart: number): boolean {
  const marker = bytes.indexOf(ALLOW_MARKER, lineStart, "latin1");
  return marker !== -1 && marker < lineEnd(bytes, lineStart);
}

export function locate(bytes: Buffer, detections: readonly Detection[], origin: Origin): Finding[] {
  const starts = new LineCursor(bytes, origin.firstLine ?? 1, origin.firstColumn ?? 1);
  const ends = new LineCursor(bytes, origin.firstLine ?? 1, origin.firstColumn ?? 1);
  const findings: Finding[] = [];
  for (const d of detections) {
    const start = starts.at(d.start);
    if (allowedInline(bytes, start.lineStart)) continue;
    const end = ends.at(d.end);
    const { rule } = d.rule;
    const hash = secretHash(d.secret);
    findings.push({
      ruleId: rule.id,
      provider: rule.provider,
      description: rule.description,
      severity: rule.severity,
      confidence: d.confidence,
      file: origin.file,
      line: start.line,
      column: start.column,
      endLine: end.line,
      endColumn: end.column,
      encoding: d.encoding,
      redacted: redact(d.secret, rule.prefix),
      secretHash: hash,
      fingerprint: fingerprint(rule.id, hash, origin.file),
      secret: new Secret(d.secret),
    });
  }
  return findings;
}
