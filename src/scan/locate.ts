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

/**
 * Walks a buffer once, front to back, answering line and column questions for increasing offsets. Lines and
 * columns are counted from where the last answer left off, and the inline-allow check looks at each line once:
 * the work per buffer stays linear however many findings it holds.
 */
class LineCursor {
  private offset = 0;
  private line: number;
  private lineStart = 0;
  /** The last offset whose column was counted, on the current line, and its column (only the buffer's first
   * line can start mid-line, at firstColumn). */
  private counted = 0;
  private column: number;
  /** The line whose inline-allow marker was last looked for, and the answer. */
  private allowLine = -1;
  private allowed = false;

  constructor(
    private readonly bytes: Buffer,
    private readonly firstLine: number,
    private readonly firstColumn: number,
  ) {
    this.line = firstLine;
    this.column = firstColumn;
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
      this.counted = this.lineStart;
      this.column = 1;
    }
    this.offset = Math.max(this.offset, offset);
    for (let i = this.counted; i < offset; i++)
      if (((this.bytes[i] as number) & 0xc0) !== 0x80) this.column++;
    this.counted = offset;
    return { line: this.line, column: this.column, lineStart: this.lineStart };
  }

  /** Whether the current line (the one of the last offset asked) carries an inline `leakwarden:allow` comment. */
  allowedInline(): boolean {
    if (this.allowLine !== this.lineStart) {
      this.allowLine = this.lineStart;
      const nl = this.bytes.indexOf(NEWLINE, this.lineStart);
      const line = this.bytes.subarray(this.lineStart, nl === -1 ? this.bytes.length : nl);
      this.allowed = line.includes(ALLOW_MARKER, 0, "latin1");
    }
    return this.allowed;
  }

  private rewind(): void {
    this.line = this.firstLine;
    this.offset = 0;
    this.lineStart = 0;
    this.counted = 0;
    this.column = this.firstColumn;
    this.allowLine = -1;
  }
}

export function locate(bytes: Buffer, detections: readonly Detection[], origin: Origin): Finding[] {
  const starts = new LineCursor(bytes, origin.firstLine ?? 1, origin.firstColumn ?? 1);
  const ends = new LineCursor(bytes, origin.firstLine ?? 1, origin.firstColumn ?? 1);
  const findings: Finding[] = [];
  for (const d of detections) {
    const start = starts.at(d.start);
    if (starts.allowedInline()) continue;
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
