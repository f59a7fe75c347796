// What kind of bytes a source holds, decided from its first bytes as git decides (text or binary), with one
// addition: UTF-16 text, which is full of NUL bytes, is recognised and read as the text it is.
import type { ReadInto } from "./chunks.js";

/** Git's rule: a NUL byte in the first 8000 bytes makes content binary. */
export const BINARY_PROBE = 8000;

export type ContentKind = "text" | "binary" | "utf-16le" | "utf-16be";

export function isBinary(bytes: Buffer): boolean {
  return probeOf(bytes).includes(0);
}

/** The first BINARY_PROBE bytes, a view made only when there are more (one per blob of a history scan). */
export function probeOf(bytes: Buffer): Buffer {
  return bytes.length > BINARY_PROBE ? bytes.subarray(0, BINARY_PROBE) : bytes;
}

/** The kind of a source from its first bytes (BINARY_PROBE of them, or all when it is shorter). */
export function contentKind(head: Buffer): ContentKind {
  if (head[0] === 0xff && head[1] === 0xfe) return "utf-16le";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf-16be";
  if (!isBinary(head)) return "text";
  return utf16Pattern(probeOf(head)) ?? "binary";
}

/**
 * UTF-16 without a byte-order mark: text in Latin script has a NUL as the high byte of nearly every character,
 * and almost never a NUL character. Binary formats rarely keep that up over 8000 bytes.
 */
function utf16Pattern(probe: Buffer): ContentKind | undefined {
  const pairs = probe.length >> 1;
  if (pairs < 16) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i + 1 < probe.length; i += 2) {
    if (probe[i] === 0) evenNul++;
    if (probe[i + 1] === 0) oddNul++;
  }
  if (oddNul >= pairs * 0.9 && evenNul <= pairs * 0.02) return "utf-16le";
  if (evenNul >= pairs * 0.9 && oddNul <= pairs * 0.02) return "utf-16be";
  return undefined;
}

/** UTF-16 bytes decoded to UTF-8, whatever their size (the byte-order mark is dropped). */
export function decodeUtf16(bytes: Buffer, kind: "utf-16le" | "utf-16be"): Buffer {
  return Buffer.from(new TextDecoder(kind).decode(bytes), "utf8");
}

/**
 * Added lines of a UTF-16 file as git cuts them (after each 0x0A byte), decoded to UTF-8. In UTF-16LE a newline
 * is 0A 00, so every line but the file's first starts with the 00 that ends the line before it: that byte is
 * dropped, and the last newline gets its own back. UTF-16BE lines (00 0A) are already whole.
 */
export function decodeUtf16Lines(bytes: Buffer, kind: "utf-16le" | "utf-16be", startsFile: boolean): Buffer {
  if (kind === "utf-16be") return decodeUtf16(bytes, kind);
  const aligned = startsFile ? bytes : bytes.subarray(1);
  return decodeUtf16(aligned.length % 2 === 1 ? Buffer.concat([aligned, Buffer.from([0])]) : aligned, kind);
}

/** A reader that serves `head` (bytes already read) before the rest of `read`. */
export function replay(head: Buffer, read: ReadInto): ReadInto {
  let pending = head;
  return async (target, offset, length) => {
    if (pending.length === 0) return read(target, offset, length);
    const n = pending.copy(target, offset, 0, Math.min(length, pending.length));
    pending = pending.subarray(n);
    return n;
  };
}

/** UTF-16 bytes from `read`, as UTF-8 pieces decoded one read at a time: memory stays flat. */
export async function* utf16Pieces(read: ReadInto, kind: "utf-16le" | "utf-16be"): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder(kind);
  const raw = Buffer.allocUnsafe(64 * 1024);
  for (let n = await read(raw, 0, raw.length); n > 0; n = await read(raw, 0, raw.length))
    yield Buffer.from(decoder.decode(raw.subarray(0, n), { stream: true }));
  yield Buffer.from(decoder.decode());
}
