// Reads a tar stream entry by entry, pulling bytes as the scan asks for them: one 512-byte header and the
// entry being scanned are all it holds. ustar, pax and GNU long names are understood; links, folders and
// devices are passed over. A tar is hostile input like a zip: names, counts and sizes are checked.
import type { ReadInto } from "./chunks.js";
import { ArchiveError, type ArchiveLimits, isSafeEntryName } from "./log-archive.js";

const BLOCK = 512;
/** pax and GNU long-name records are read whole; real ones are a few hundred bytes. */
const MAX_META_BYTES = 1024 * 1024;
const REGULAR = new Set(["0", "\0", "7"]);

export type TarItem =
  | { kind: "entry"; name: string; size: number; read: ReadInto }
  | { kind: "skipped"; name: string; problem: "unsafe" | "bomb"; text: string };

async function readFully(read: ReadInto, target: Buffer): Promise<number> {
  let filled = 0;
  while (filled < target.length) {
    const n = await read(target, filled, target.length - filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

async function readExactly(read: ReadInto, length: number, what: string): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(length);
  if ((await readFully(read, bytes)) !== length)
    throw new ArchiveError(`the tar is truncated inside ${what}`);
  return bytes;
}

/** Reads and drops `length` bytes. */
async function skip(read: ReadInto, length: number, what: string): Promise<void> {
  const scratch = Buffer.allocUnsafe(64 * 1024);
  for (let left = length; left > 0; ) {
    const n = await read(scratch, 0, Math.min(left, scratch.length));
    if (n === 0) throw new ArchiveError(`the tar is truncated inside ${what}`);
    left -= n;
  }
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

function text(header: Buffer, from: number, length: number): string {
  const field = header.subarray(from, from + length);
  const end = field.indexOf(0);
  return field.toString("utf8", 0, end === -1 ? length : end);
}

/** A numeric field: octal text, or base-256 (the high bit set) for sizes past 8 GB. */
function number(header: Buffer, from: number, length: number): number {
  const field = header.subarray(from, from + length);
  if ((field[0] as number) & 0x80) {
    let value = (field[0] as number) & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + (field[i] as number);
    return value;
  }
  const digits = text(header, from, length).trim();
  if (!/^[0-7]*$/.test(digits)) throw new ArchiveError("not a tar archive (a header field is not octal)");
  return digits === "" ? 0 : Number.parseInt(digits, 8);
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] as number);
  return number(header, 148, 8) === sum;
}

/** The `path` and `size` records of a pax extended header ("<length> <key>=<value>\n" each). */
function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number.parseInt(data.toString("utf8", at, space), 10);
    if (space === -1 || !(length > 0) || at + length > data.length) break;
    const record = data.toString("utf8", space + 1, at + length - 1);
    const equals = record.indexOf("=");
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/** Why an entry is not read: its name, or the limits it is past (counted with it). */
function refusedEntry(
  name: string,
  where: string,
  entries: number,
  total: number,
  limits: ArchiveLimits,
): TarItem | undefined {
  if (!isSafeEntryName(name))
    return { kind: "skipped", name, problem: "unsafe", text: `${where} was skipped: its name is unsafe` };
  if (entries > limits.maxEntries)
    return {
      kind: "skipped",
      name,
      problem: "bomb",
      text: `${where} and any after it were not scanned: past the ${limits.maxEntries}-entry limit`,
    };
  if (total > limits.maxUncompressedBytes)
    return {
      kind: "skipped",
      name,
      problem: "bomb",
      text: `${where} and any after it were not scanned: together the entries pass the ${limits.maxUncompressedBytes}-byte limit`,
    };
  return undefined;
}

/**
 * The regular files of a tar, in order. Each entry's `read` must be used (or left) before the next item is
 * asked for: the rest of the entry is then skipped.
 */
export async function* tarEntries(read: ReadInto, limits: ArchiveLimits): AsyncGenerator<TarItem> {
  let entries = 0;
  let total = 0;
  let longName: string | undefined;
  let pax = new Map<string, string>();
  for (;;) {
    const header = Buffer.allocUnsafe(BLOCK);
    const got = await readFully(read, header);
    // A tar ends with zero blocks; one that simply stops at a block boundary is accepted as gzip'd tars often do.
    if (got === 0 || (got === BLOCK && header.every((b) => b === 0))) return;
    if (got !== BLOCK) throw new ArchiveError("the tar is truncated inside a header");
    if (!checksumMatches(header)) throw new ArchiveError("not a tar archive (a header checksum is wrong)");
    const type = String.fromCharCode(header[156] as number);
    const size = Number(pax.get("size") ?? number(header, 124, 12));
    if (!Number.isSafeInteger(size) || size < 0) throw new ArchiveError("a tar entry's size is not a size");
    const prefix = header.toString("latin1", 257, 262) === "ustar" ? text(header, 345, 155) : "";
    const name =
      pax.get("path") ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    if (type === "x" || type === "L") {
      if (size > MAX_META_BYTES)
        throw new ArchiveError(`a tar long-name header of ${size} bytes is over the limit`);
      const data = await readExactly(read, size + padding(size), "a long-name header");
      if (type === "x") pax = paxRecords(data.subarray(0, size));
      else longName = text(data, 0, size);
      continue;
    }
    longName = undefined;
    pax = new Map();
    const where = `entry ${JSON.stringify(name)}`;
    if (!REGULAR.has(type)) {
      await skip(read, size + padding(size), where);
      continue;
    }
    entries++;
    total += size;
    const refusal = refusedEntry(name, where, entries, total, limits);
    if (refusal) {
      yield refusal;
      // Past a limit the rest is not read at all: one note, not one per entry of a million-entry tar.
      if (refusal.kind === "skipped" && refusal.problem === "bomb") return;
      await skip(read, size + padding(size), where);
      continue;
    }
    let left = size;
    yield {
      kind: "entry",
      name,
      size,
      read: async (target, offset, length) => {
        if (left === 0) return 0;
        const n = await read(target, offset, Math.min(length, left));
        if (n === 0) throw new ArchiveError(`the tar is truncated inside ${where}`);
        left -= n;
        return n;
      },
    };
    await skip(read, left + padding(size), where);
  }
}
