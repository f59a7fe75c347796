// Whether a blob (or a window of a large one) holds anything the engine detects. A history scan by blobs uses
// the answer only to choose the commits whose patches it then scans, so it errs towards yes: every view of the
// bytes a patch scan could take is looked at (binary blobs as raw bytes, UTF-16 both decoded and raw).
import { BINARY_PROBE, contentKind, decodeUtf16 } from "../sources/content-kind.js";
import type { Engine } from "./engine.js";

/** Verdict bits. */
export const HAS_DETECTION = 1;
export const BINARY_BLOB = 2;

/** One blob, or one window of a large blob (`raw`: no kind to decide, the bytes as they are), in a batch. */
export interface BlobItem {
  start: number;
  end: number;
  raw: boolean;
}

export function checkBlob(engine: Engine, bytes: Buffer, raw: boolean): number {
  const found = (view: Buffer) => engine.detect(view).length > 0;
  if (raw) return found(bytes) ? HAS_DETECTION : 0;
  const kind = contentKind(bytes.subarray(0, BINARY_PROBE));
  if (kind === "text") return found(bytes) ? HAS_DETECTION : 0;
  // A patch scan reads lines added to a binary file as text when they carry no NUL byte.
  if (kind === "binary") return BINARY_BLOB | (found(bytes) ? HAS_DETECTION : 0);
  return found(decodeUtf16(bytes, kind)) || found(bytes) ? HAS_DETECTION : 0;
}

/** The verdict of every item of a batch, in order. */
export function checkBatch(engine: Engine, buffer: Buffer, items: readonly BlobItem[]): Uint8Array {
  const verdicts = new Uint8Array(items.length);
  items.forEach((item, i) => {
    verdicts[i] = checkBlob(engine, buffer.subarray(item.start, item.end), item.raw);
  });
  return verdicts;
}
