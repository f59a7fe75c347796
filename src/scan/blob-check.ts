// Whether a blob (or a window of a large one) holds anything the engine detects. A history scan by blobs uses
// the answer only to choose the commits whose patches it then scans, so it errs towards yes: every view of the
// bytes a patch scan could take is looked at (binary blobs as raw bytes, UTF-16 both decoded and raw). And which
// part of a blob needs looking at, given its parent's version: changedRegion.
import { contentKind, decodeUtf16, probeOf } from "../sources/content-kind.js";
import type { Engine } from "./engine.js";

/** Verdict bits. */
export const HAS_DETECTION = 1;
export const BINARY_BLOB = 2;

export function checkBlob(engine: Engine, bytes: Buffer, raw: boolean): number {
  const found = (view: Buffer) => engine.holdsDetection(view);
  if (raw) return found(bytes) ? HAS_DETECTION : 0;
  const kind = contentKind(probeOf(bytes));
  if (kind === "text") return found(bytes) ? HAS_DETECTION : 0;
  // A patch scan reads lines added to a binary file as text when they carry no NUL byte.
  if (kind === "binary") return BINARY_BLOB | (found(bytes) ? HAS_DETECTION : 0);
  return found(decodeUtf16(bytes, kind)) || found(bytes) ? HAS_DETECTION : 0;
}

const NL = 10;

/** Native compares start at this block size and double while the bytes agree (fewer calls for long prefixes). */
const FIRST_BLOCK = 1024;
const MAX_BLOCK = 64 * 1024;
/**
 * Below this size the differing block is walked byte by byte: each native compare has a fixed cost of its own,
 * more than a short loop's (measured on the blob pairs of expressjs/express: half the time of halving to 1 byte).
 */
const BYTE_WALK = 256;

/**
 * How many leading bytes `a` and `b` share (at most `limit`): native compares of growing blocks until one
 * differs, then of halving ones inside it, then a short walk over the last few bytes.
 */
function commonPrefix(a: Buffer, b: Buffer, limit: number): number {
  let at = 0;
  let block = FIRST_BLOCK;
  for (; at < limit; block = Math.min(block * 2, MAX_BLOCK)) {
    const end = Math.min(limit, at + block);
    if (a.compare(b, at, end, at, end) !== 0) break;
    at = end;
  }
  // The first difference is in [at, at + block).
  for (let size = block >> 1; size >= BYTE_WALK && at < limit; size >>= 1) {
    const end = Math.min(limit, at + size);
    if (a.compare(b, at, end, at, end) === 0) at = end;
  }
  while (at < limit && a[at] === b[at]) at++;
  return at;
}

/** How many trailing bytes `a` and `b` share (at most `limit`), found the same way. */
function commonSuffix(a: Buffer, b: Buffer, limit: number): number {
  const same = (n: number, size: number) =>
    a.compare(b, b.length - size, b.length - n, a.length - size, a.length - n) === 0;
  let n = 0;
  let block = FIRST_BLOCK;
  for (; n < limit; block = Math.min(block * 2, MAX_BLOCK)) {
    const size = Math.min(limit, n + block);
    if (!same(n, size)) break;
    n = size;
  }
  for (let step = block >> 1; step >= BYTE_WALK && n < limit; step >>= 1) {
    const size = Math.min(limit, n + step);
    if (same(n, size)) n = size;
  }
  while (n < limit && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

/**
 * Whether bytes[from, to) holds `line` (ending with its newline) as one of its whole lines: a native search
 * that stops at `to`, not at the end of the blob.
 */
function holdsLine(bytes: Buffer, { from, to }: { from: number; to: number }, line: Buffer): boolean {
  const region = bytes.subarray(from, to);
  for (let at = region.indexOf(line); at !== -1; at = region.indexOf(line, at + 1))
    if (at === 0 || region[at - 1] === NL) return true;
  return false;
}

/** Where the line holding byte `at - 1` starts (0 at the start). */
function lineStartBefore(bytes: Buffer, at: number): number {
  return at <= 1 ? 0 : bytes.lastIndexOf(NL, at - 2) + 1;
}

/**
 * The bytes of `next` that a line diff from `previous` (git's, any algorithm) can show as added: whole lines
 * between the lines both versions share at the start and at the end (git trims exactly those before diffing),
 * widened over neighbouring lines equal to a line inside, since git may slide a group of added lines across
 * such lines. Empty when `next` only lost lines.
 */
export function changedRegion(previous: Buffer, next: Buffer): { start: number; end: number } {
  const limit = Math.min(previous.length, next.length);
  const prefix = commonPrefix(previous, next, limit);
  const suffix = commonSuffix(previous, next, limit - prefix);
  let start = prefix === 0 ? 0 : next.lastIndexOf(NL, prefix - 1) + 1;
  let end = next.length - suffix;
  // The shared tail counts from a line start only where it starts a line in both versions.
  const aligned =
    suffix === 0 ||
    ((end === 0 || next[end - 1] === NL) &&
      (previous.length === suffix || previous[previous.length - suffix - 1] === NL));
  if (suffix > 0 && !aligned) {
    const nl = next.indexOf(NL, end);
    end = nl === -1 ? next.length : nl + 1;
  }
  if (start >= end) return { start: end, end };
  if (start === 0 && end === next.length) return { start, end };
  const region = { from: start, to: end };
  while (start > 0) {
    const above = lineStartBefore(next, start);
    if (!holdsLine(next, region, next.subarray(above, start))) break;
    start = above;
  }
  while (end < next.length) {
    const nl = next.indexOf(NL, end);
    if (nl === -1) break; // a last line without a newline is not a line of the region
    if (!holdsLine(next, region, next.subarray(end, nl + 1))) break;
    end = nl + 1;
  }
  return { start, end };
}
