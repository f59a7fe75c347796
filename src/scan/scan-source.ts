// Scans one source of bytes (a file, stdin, a blob) in overlapping chunks and locates what it finds.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { DEFAULT_CHUNK_SIZE, type ReadInto, readChunks } from "../sources/chunks.js";
import { BINARY_PROBE, contentKind, decodeUtf16, replay, utf16Pieces } from "../sources/content-kind.js";
import { appendAll } from "./append.js";
import type { CompiledRules } from "./compile.js";
import type { Engine } from "./engine.js";
import { locate } from "./locate.js";
import type { ArchiveSkip } from "./scan-archive.js";
import type { Finding } from "./types.js";

/** Context words are read at most this far from a match on each side (see context.ts). */
const CONTEXT_REACH = 2048;

export interface SourceOutcome {
  findings: Finding[];
  bytes: number;
  skipped?: "binary" | "unreadable" | ArchiveSkip;
  /** What was left out and why, named (archive entries): shown in the summary. */
  note?: string;
}

/** How many bytes neighbouring chunks must share so that no match or its context is cut. */
export function chunkOverlap(compiled: CompiledRules): number {
  const reach = Math.max(0, ...compiled.rules.map((r) => r.reach), ...compiled.decoders.map((d) => d.reach));
  return reach + 2 * CONTEXT_REACH;
}

export async function scanReadable(
  engine: Engine,
  read: ReadInto,
  display: string,
  chunkSize?: number,
): Promise<SourceOutcome> {
  const findings: Finding[] = [];
  let bytes = 0;
  // The first bytes decide what the source is: binary (skipped), UTF-16 (decoded) or text.
  const head = Buffer.allocUnsafe(BINARY_PROBE);
  let filled = 0;
  while (filled < head.length) {
    const n = await read(head, filled, head.length - filled);
    if (n === 0) break;
    filled += n;
  }
  const kind = contentKind(head.subarray(0, filled));
  if (kind === "binary") return { findings: [], bytes: 0, skipped: "binary" };
  const replayed = replay(head.subarray(0, filled), read);
  const source = kind === "text" ? replayed : streamReader(utf16Pieces(replayed, kind));
  for await (const chunk of readChunks(source, chunkOverlap(engine.compiled), chunkSize)) {
    bytes += chunk.to - chunk.from;
    const detections = engine.detect(chunk.bytes, chunk.from, chunk.to);
    if (detections.length > 0) {
      appendAll(
        findings,
        locate(chunk.bytes, detections, {
          file: display,
          firstLine: chunk.firstLine,
          firstColumn: chunk.firstColumn,
        }),
      );
    }
  }
  return { findings, bytes };
}

/** Reads a whole small file with one call: most files are far smaller than a chunk. */
function readWhole(fd: number, size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, bytes, filled, size - filled, null);
    if (n === 0) break;
    filled += n;
  }
  return bytes.subarray(0, filled);
}

/** Scans one buffer that holds a whole source. */
function scanWhole(engine: Engine, raw: Buffer, display: string): SourceOutcome {
  const kind = contentKind(raw);
  if (kind === "binary") return { findings: [], bytes: 0, skipped: "binary" };
  const bytes = kind === "text" ? raw : decodeUtf16(raw, kind);
  const detections = engine.detect(bytes);
  return {
    findings: detections.length > 0 ? locate(bytes, detections, { file: display }) : [],
    bytes: bytes.length,
  };
}

/**
 * Scans a file with synchronous reads: scanning threads have nothing else to do while they wait, and a
 * round trip through the I/O pool per read costs more than the read. Large files go in chunks.
 */
export async function scanFile(engine: Engine, path: string, display: string): Promise<SourceOutcome> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return { findings: [], bytes: 0, skipped: "unreadable" };
  }
  try {
    const { size } = fstatSync(fd);
    if (size < DEFAULT_CHUNK_SIZE) return scanWhole(engine, readWhole(fd, size), display);
    return await scanReadable(
      engine,
      async (target, offset, length) => readSync(fd, target, offset, length, null),
      display,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EISDIR" || code === "EIO" || code === "EACCES")
      return { findings: [], bytes: 0, skipped: "unreadable" };
    throw error;
  } finally {
    closeSync(fd);
  }
}

/** Adapts a stream (stdin, a child's stdout, decoded text) to ReadInto, holding one pending piece at most. */
export function streamReader(stream: AsyncIterable<Buffer | string>): ReadInto {
  const iterator = stream[Symbol.asyncIterator]();
  let pending: Buffer = Buffer.alloc(0);
  return async (target, offset, length) => {
    if (pending.length === 0) {
      const next = await iterator.next();
      if (next.done) return 0;
      pending = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value as string);
    }
    const n = Math.min(length, pending.length);
    pending.copy(target, offset, 0, n);
    pending = pending.subarray(n);
    return n;
  };
}
