// Reads any byte source in bounded windows that overlap, so that memory stays flat whatever the input size
// and a secret that straddles two reads is still seen whole, exactly once.

/** Reads up to `length` bytes into `target` at `offset`; resolves 0 at the end. */
export type ReadInto = (target: Buffer, offset: number, length: number) => Promise<number>;

export interface Chunk {
  bytes: Buffer;
  /** Detections are kept only when they start in [from, to); the rest is context for the neighbours. */
  from: number;
  to: number;
  /** Line number of bytes[0], and the character column of bytes[0] within that line. */
  firstLine: number;
  firstColumn: number;
}

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0;
  for (let at = bytes.indexOf(10, 0); at !== -1 && at < end; at = bytes.indexOf(10, at + 1)) count++;
  return count;
}

function countChars(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (((bytes[i] as number) & 0xc0) !== 0x80) count++;
  return count;
}

async function fill(read: ReadInto, target: Buffer, offset: number): Promise<number> {
  let filled = offset;
  while (filled < target.length) {
    const got = await read(target, filled, target.length - filled);
    if (got === 0) break;
    filled += got;
  }
  return filled;
}

/**
 * Yields windows of `chunkSize` bytes; neighbours share `2 * overlap` bytes, owned by the later one from `overlap` on.
 * `overlap` must exceed the longest possible match plus the context a rule may read.
 * The window's memory is reused: a chunk's bytes are valid only until the next one is asked for.
 */
export async function* readChunks(
  read: ReadInto,
  overlap: number,
  chunkSize = DEFAULT_CHUNK_SIZE,
): AsyncGenerator<Chunk> {
  const size = Math.max(chunkSize, overlap * 4);
  const window = Buffer.allocUnsafe(size);
  let carried = 0;
  let from = 0;
  let firstLine = 1;
  let firstColumn = 1;
  for (;;) {
    const length = await fill(read, window, carried);
    const bytes = window.subarray(0, length);
    const last = length < window.length;
    const to = last ? length : length - overlap;
    yield { bytes, from, to, firstLine, firstColumn };
    if (last) return;
    // The next window starts `overlap` bytes before this one's end of ownership.
    const next = to - overlap;
    const lastNewline = bytes.lastIndexOf(10, next - 1);
    firstColumn =
      lastNewline === -1
        ? firstColumn + countChars(bytes, 0, next)
        : 1 + countChars(bytes, lastNewline + 1, next);
    firstLine += countNewlines(bytes, next);
    carried = length - next;
    window.copy(window, 0, next, length);
    from = overlap;
  }
}
