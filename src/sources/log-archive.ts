// Reads a CI log archive (the zip GitHub serves for a workflow run) entry by entry, as streams, under hard
// limits: an archive is hostile input until proven otherwise (zip bombs, path traversal, lying headers). One
// odd entry never costs the others: it is skipped or cut short, and the archive says what it left out.

import { type FileHandle, open } from "node:fs/promises";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { createInflateRaw, inflateRawSync } from "node:zlib";
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

/**
 * Why part of an archive was left out: `bomb` (a limit on size, ratio or entries), `corrupt` (truncated,
 * damaged, not the format its name says), `unsafe` (a name that leaves the archive), `unsupported`
 * (encrypted, zip64, an unknown compression method).
 */
export type ArchiveProblem = "bomb" | "corrupt" | "unsafe" | "unsupported";

/** Something in an archive could not be read; the message names what, for the breach issue. */
export class ArchiveError extends UserError {
  constructor(
    message: string,
    readonly problem: ArchiveProblem = "corrupt",
  ) {
    super(message);
    this.name = "ArchiveError";
  }
}

/** The whole archive could not be read at all. */
function refused(message: string, problem: ArchiveProblem = "corrupt"): ArchiveError {
  return new ArchiveError(`archive refused: ${message}`, problem);
}

/** One thing an archive left out or cut short, and why. */
export interface ArchiveNote {
  problem: ArchiveProblem;
  /** The entry it is about; absent when it is about several (the entry-count limit). */
  entry?: string;
  text: string;
}

/** An entry name as it is shown in a note: quoted, controls escaped, never long. */
function shown(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 119)}…` : name);
}

export interface ArchiveEntry {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  /**
   * The decompressed bytes; an entry that compresses better than the ratio limit ends after the bytes the limit
   * allows. It errors with ArchiveError when the entry lies about its size or is corrupt.
   */
  open(): Readable;
}

export interface LogArchive {
  entries: ArchiveEntry[];
  /** What was skipped or cut short. */
  notes: ArchiveNote[];
  close: () => Promise<void>;
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
  if (bytesRead !== length) throw refused("truncated archive");
  return buffer;
}

async function findEndOfCentralDirectory(file: FileHandle, size: number): Promise<Buffer | null> {
  const tail = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const buffer = await readAt(file, size - tail, tail);
  for (let at = tail - EOCD_SIZE; at >= 0; at--) {
    if (buffer.readUInt32LE(at) === EOCD_SIGNATURE) return buffer.subarray(at);
  }
  return null;
}

function parseCentralDirectory(directory: Buffer, count: number): CentralRecord[] {
  const records: CentralRecord[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw refused("corrupt central directory");
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
    if (problem) done(new ArchiveError(problem, "bomb"));
    else done(null, chunk);
  }
}

const DATA_DESCRIPTOR_FLAG = 0x8;

/**
 * The entries of an archive whose directory is missing or damaged (a download cut short), found by walking
 * their local headers from the start; the walk stops at the first entry whose size only a trailer would tell.
 */
async function walkLocalHeaders(file: FileHandle, size: number): Promise<CentralRecord[]> {
  const records: CentralRecord[] = [];
  let at = 0;
  while (at + 30 <= size) {
    const local = await readAt(file, at, 30);
    if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) break;
    const flags = local.readUInt16LE(6);
    const nameLength = local.readUInt16LE(26);
    const extraLength = local.readUInt16LE(28);
    const compressedSize = local.readUInt32LE(18);
    const end = at + 30 + nameLength + extraLength + compressedSize;
    if (flags & DATA_DESCRIPTOR_FLAG || end > size) break;
    records.push({
      flags,
      method: local.readUInt16LE(8),
      compressedSize,
      uncompressedSize: local.readUInt32LE(22),
      localOffset: at,
      name: (await readAt(file, at + 30, nameLength)).toString("utf8"),
    });
    at = end;
  }
  return records;
}

/** The records of the archive's directory, or those its local headers still tell when it is damaged. */
async function readRecords(file: FileHandle, size: number, notes: ArchiveNote[]): Promise<CentralRecord[]> {
  const eocd = await findEndOfCentralDirectory(file, size);
  try {
    if (!eocd) throw refused("no end of central directory");
    const count = eocd.readUInt16LE(10);
    const directorySize = eocd.readUInt32LE(12);
    const directoryOffset = eocd.readUInt32LE(16);
    if (count === 0xffff || directoryOffset === 0xffffffff)
      throw refused("zip64 archives are not supported", "unsupported");
    if (directoryOffset + directorySize > size) throw refused("central directory outside the archive");
    return parseCentralDirectory(await readAt(file, directoryOffset, directorySize), count);
  } catch (error) {
    if (!(error instanceof ArchiveError)) throw error;
    const recovered = await walkLocalHeaders(file, size);
    if (recovered.length === 0) {
      throw eocd ? error : refused("not a zip archive (no end of central directory)");
    }
    notes.push({
      problem: "corrupt",
      text: `the archive is truncated or its directory is damaged: ${recovered.length} entries were recovered from their own headers, anything after them was not scanned`,
    });
    return recovered;
  }
}

/** Why an entry cannot be read at all, or null. */
function entryProblem(record: CentralRecord): [ArchiveProblem, string] | null {
  if (!isSafeEntryName(record.name)) return ["unsafe", "its name is unsafe"];
  if (record.flags & ENCRYPTED_FLAG) return ["unsupported", "it is encrypted"];
  if (record.method !== STORED && record.method !== DEFLATED)
    return ["unsupported", `it uses compression method ${record.method}`];
  return null;
}

function skippedEntry(name: string, problem: ArchiveProblem, why: string): ArchiveNote {
  return { problem, entry: name, text: `entry ${shown(name)} was skipped: ${why}` };
}

/** Opens a zip file and checks its directory; entries are then read one at a time, as streams. */
export async function readLogArchive(
  path: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<LogArchive> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    if (size > limits.maxCompressedBytes) {
      throw refused(`${size} bytes is over the ${limits.maxCompressedBytes}-byte limit`);
    }
    const notes: ArchiveNote[] = [];
    const records = (await readRecords(file, size, notes)).filter((record) => !record.name.endsWith("/"));

    let declaredTotal = 0;
    const overTotal: string[] = [];
    const kept: CentralRecord[] = [];
    // Byte spans already taken: entries that share bytes are the overlapping-file zip bomb.
    const spans: [number, number][] = [];
    for (const record of records.slice(0, limits.maxEntries)) {
      const problem = entryProblem(record);
      if (problem) {
        notes.push(skippedEntry(record.name, ...problem));
        continue;
      }
      const span: [number, number] = [record.localOffset, record.localOffset + 30 + record.compressedSize];
      if (spans.some(([from, to]) => span[0] < to && from < span[1])) {
        notes.push(skippedEntry(record.name, "bomb", "it shares its bytes with another entry"));
        continue;
      }
      if (declaredTotal + record.uncompressedSize > limits.maxUncompressedBytes) {
        overTotal.push(record.name);
        continue;
      }
      spans.push(span);
      declaredTotal += record.uncompressedSize;
      kept.push(record);
    }
    if (records.length > limits.maxEntries)
      notes.push({
        problem: "bomb",
        text: `${records.length - limits.maxEntries} entries past the ${limits.maxEntries}-entry limit were not scanned`,
      });
    if (overTotal.length > 0)
      notes.push({
        problem: "bomb",
        ...(overTotal.length === 1 ? { entry: overTotal[0] } : {}),
        text: `${overTotal.length} entries were not scanned: together the entries pass the ${limits.maxUncompressedBytes}-byte limit`,
      });

    let inflated = 0;
    const entries = kept.map((record): ArchiveEntry => {
      const ratio = record.uncompressedSize / Math.max(1, record.compressedSize);
      const cutAt =
        ratio > limits.maxRatio ? Math.max(1, record.compressedSize) * limits.maxRatio : undefined;
      if (cutAt !== undefined)
        notes.push({
          problem: "bomb",
          entry: record.name,
          text: `entry ${shown(record.name)} was scanned only to its first ${cutAt} bytes: it compresses ${Math.round(ratio)}:1, over the ${limits.maxRatio}:1 limit`,
        });
      return {
        name: record.name,
        compressedSize: record.compressedSize,
        uncompressedSize: record.uncompressedSize,
        open: () =>
          openEntry(file, record, cutAt, (n) => {
            inflated += n;
            return inflated > limits.maxUncompressedBytes
              ? "the archive inflates beyond the total limit"
              : null;
          }),
      };
    });
    return { entries, notes, close: () => file.close() };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Ends a stream quietly after `limit` bytes, and stops what feeds it. */
class Cut extends Transform {
  private seen = 0;

  constructor(
    private readonly limit: number,
    private readonly stop: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const room = this.limit - this.seen;
    this.seen += chunk.length;
    if (room > 0 && chunk.length < room) this.push(chunk);
    else if (room > 0) {
      this.push(chunk.subarray(0, room));
      this.push(null);
      this.stop();
    }
    done();
  }
}

const SPAN_PIECE = 64 * 1024;

/**
 * The bytes of one span of the archive, read with positioned reads: a file stream per entry would leave a
 * listener on the shared handle each time (thousands in a large jar).
 */
async function* fileSpan(file: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  const end = start + length;
  for (let at = start; at < end; at += SPAN_PIECE)
    yield await readAt(file, at, Math.min(SPAN_PIECE, end - at));
}

/**
 * Entries this small (compressed) and within the ratio limit are inflated in one call: a jar holds thousands of
 * them, and a stream pipeline each costs more than the inflating.
 */
const SMALL_ENTRY = 64 * 1024;

function inflateWhole(raw: Buffer, record: CentralRecord, where: string): Readable {
  if (record.method !== DEFLATED) return Readable.from([raw]);
  try {
    // One byte past the declared size is enough for the ByteLimit after it to tell a lying header.
    return Readable.from([inflateRawSync(raw, { maxOutputLength: record.uncompressedSize + 1 })]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE")
      throw new ArchiveError(
        `${where} inflates beyond its declared size, and was not scanned past it`,
        "bomb",
      );
    throw new ArchiveError(`${where}: ${(error as Error).message}`);
  }
}

function openEntry(
  file: FileHandle,
  record: CentralRecord,
  cutAt: number | undefined,
  count: (n: number) => string | null,
): Readable {
  const where = `entry ${shown(record.name)}`;
  const limited = new ByteLimit(
    record.uncompressedSize,
    `${where} inflates beyond its declared size, and was not scanned past it`,
    count,
  );
  let output: Readable = limited;
  if (cutAt !== undefined) {
    const cut = new Cut(cutAt, () => limited.unpipe(cut));
    limited.on("error", (error) => cut.destroy(error));
    output = limited.pipe(cut);
  }
  (async () => {
    const local = await readAt(file, record.localOffset, 30);
    if (local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new ArchiveError(`${where} has no local header`);
    const dataStart = record.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (cutAt === undefined && record.compressedSize <= SMALL_ENTRY) {
      inflateWhole(await readAt(file, dataStart, record.compressedSize), record, where).pipe(limited);
      return;
    }
    const source = Readable.from(fileSpan(file, dataStart, record.compressedSize));
    const decoded: Readable = record.method === DEFLATED ? source.pipe(createInflateRaw()) : source;
    const fail = (error: Error) => {
      limited.destroy(error instanceof ArchiveError ? error : new ArchiveError(`${where}: ${error.message}`));
    };
    source.on("error", fail);
    if (decoded !== source) decoded.on("error", fail);
    // Once cut, or left early by its reader, stop reading and inflating.
    output.once("close", () => {
      source.destroy();
      decoded.destroy();
    });
    decoded.pipe(limited);
  })().catch((error: Error) => limited.destroy(error));
  return output;
}
