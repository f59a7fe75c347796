// Reads a CI log archive (the zip GitHub serves for a workflow run) entry by entry, as streams, under hard
// limits: an archive is hostile input until proven otherwise (zip bombs, path traversal, lying headers).

import { type FileHandle, open } from "node:fs/promises";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { createInflateRaw } from "node:zlib";
import { UserError } from "../errors.js";

export interface ArchiveLimits {
  /** Largest archive accepted, in bytes. */
  maxCompressedBytes: number;
  /** Largest total of all entries once decompressed. */
  maxUncompressedBytes: number;
  maxEntries: number;
  /** Largest decompressed / compressed ratio of any entry: deflate bombs reach 1000 and more. */
  maxRatio: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxCompressedBytes: 512 * 1024 * 1024,
  maxUncompressedBytes: 4 * 1024 * 1024 * 1024,
  maxEntries: 10_000,
  maxRatio: 200,
};

export class ArchiveError extends UserError {
  constructor(message: string) {
    super(`log archive refused: ${message}`);
    this.name = "ArchiveError";
  }
}

export interface ArchiveEntry {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  /** The decompressed bytes; it errors with ArchiveError when a limit is crossed mid-stream. */
  open(): Readable;
}

interface CentralRecord {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATED = 8;
const ENCRYPTED_FLAG = 0x1;

/** A name must stay inside the archive: no absolute paths, drive letters, `..` segments or NUL bytes. */
export function isSafeEntryName(name: string): boolean {
  if (name.length === 0 || name.includes("\0")) return false;
  if (name.startsWith("/") || name.startsWith("\\") || /^[A-Za-z]:/.test(name)) return false;
  return !name.split(/[\\/]/).includes("..");
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new ArchiveError("truncated archive");
  return buffer;
}

async function findEndOfCentralDirectory(file: FileHandle, size: number): Promise<Buffer> {
  const tail = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const buffer = await readAt(file, size - tail, tail);
  for (let at = tail - EOCD_SIZE; at >= 0; at--) {
    if (buffer.readUInt32LE(at) === EOCD_SIGNATURE) return buffer.subarray(at);
  }
  throw new ArchiveError("not a zip archive (no end of central directory)");
}

function parseCentralDirectory(directory: Buffer, count: number): CentralRecord[] {
  const records: CentralRecord[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw new ArchiveError("corrupt central directory");
    }
    const nameLength = directory.readUInt16LE(at + 28);
    const extraLength = directory.readUInt16LE(at + 30);
    const commentLength = directory.readUInt16LE(at + 32);
    records.push({
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      uncompressedSize: directory.readUInt32LE(at + 24),
      localOffset: directory.readUInt32LE(at + 42),
      name: directory.toString("utf8", at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return records;
}

/** Passes bytes through, and fails the stream with ArchiveError the moment a limit is crossed. */
export class ByteLimit extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly overLimit: string,
    /** A further check on each chunk's size, shared across streams (the archive's total). */
    private readonly onBytes: (n: number) => string | null = () => null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    const problem = this.seen > this.limit ? this.overLimit : this.onBytes(chunk.length);
    if (problem) done(new ArchiveError(problem));
    else done(null, chunk);
  }
}

/** Opens a zip file and checks its directory; entries are then read one at a time, as streams. */
export async function readLogArchive(
  path: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<{
  entries: ArchiveEntry[];
  close: () => Promise<void>;
}> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    if (size > limits.maxCompressedBytes) {
      throw new ArchiveError(`${size} bytes is over the ${limits.maxCompressedBytes}-byte limit`);
    }
    const eocd = await findEndOfCentralDirectory(file, size);
    const count = eocd.readUInt16LE(10);
    const directorySize = eocd.readUInt32LE(12);
    const directoryOffset = eocd.readUInt32LE(16);
    if (count === 0xffff || directoryOffset === 0xffffffff)
      throw new ArchiveError("zip64 archives are not supported");
    if (count > limits.maxEntries)
      throw new ArchiveError(`${count} entries is over the ${limits.maxEntries}-entry limit`);
    if (directoryOffset + directorySize > size)
      throw new ArchiveError("central directory outside the archive");
    const records = parseCentralDirectory(await readAt(file, directoryOffset, directorySize), count);

    let declaredTotal = 0;
    const spans: [number, number][] = [];
    for (const record of records) {
      if (!isSafeEntryName(record.name))
        throw new ArchiveError(`unsafe entry name ${JSON.stringify(record.name)}`);
      if (record.flags & ENCRYPTED_FLAG) throw new ArchiveError(`entry "${record.name}" is encrypted`);
      if (record.method !== STORED && record.method !== DEFLATED) {
        throw new ArchiveError(`entry "${record.name}" uses compression method ${record.method}`);
      }
      const ratio = record.uncompressedSize / Math.max(1, record.compressedSize);
      if (ratio > limits.maxRatio)
        throw new ArchiveError(`entry "${record.name}" has a compression ratio of ${Math.round(ratio)}`);
      declaredTotal += record.uncompressedSize;
      spans.push([record.localOffset, record.localOffset + 30 + record.compressedSize]);
    }
    if (declaredTotal > limits.maxUncompressedBytes) {
      throw new ArchiveError(
        `${declaredTotal} uncompressed bytes is over the ${limits.maxUncompressedBytes}-byte limit`,
      );
    }
    // Entries that share bytes are the overlapping-file zip bomb.
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      if ((spans[i] as [number, number])[0] < (spans[i - 1] as [number, number])[1])
        throw new ArchiveError("entries overlap");
    }

    let inflated = 0;
    const entries = records
      .filter((record) => !record.name.endsWith("/"))
      .map(
        (record): ArchiveEntry => ({
          name: record.name,
          compressedSize: record.compressedSize,
          uncompressedSize: record.uncompressedSize,
          open: () =>
            openEntry(file, record, limits, (n) => {
              inflated += n;
              return inflated > limits.maxUncompressedBytes
                ? "the archive inflates beyond the total limit"
                : null;
            }),
        }),
      );
    return { entries, close: () => file.close() };
  } catch (error) {
    await file.close();
    throw error;
  }
}

function openEntry(
  file: FileHandle,
  record: CentralRecord,
  limits: ArchiveLimits,
  count: (n: number) => string | null,
): Readable {
  const allowed = Math.min(record.uncompressedSize, Math.max(1, record.compressedSize) * limits.maxRatio);
  const limited = new ByteLimit(
    allowed,
    `entry "${record.name}" inflates beyond its declared or allowed size`,
    count,
  );
  (async () => {
    const local = await readAt(file, record.localOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL_SIGNATURE)
      throw new ArchiveError(`entry "${record.name}" has no local header`);
    const dataStart = record.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const source: Readable =
      record.compressedSize === 0
        ? Readable.from([])
        : file.createReadStream({
            start: dataStart,
            end: dataStart + record.compressedSize - 1,
            autoClose: false,
          });
    const decoded: Readable = record.method === DEFLATED ? source.pipe(createInflateRaw()) : source;
    decoded.on("error", (error: Error) => {
      limited.destroy(
        error instanceof ArchiveError ? error : new ArchiveError(`entry "${record.name}": ${error.message}`),
      );
    });
    decoded.pipe(limited);
  })().catch((error: Error) => limited.destroy(error));
  return limited;
}
