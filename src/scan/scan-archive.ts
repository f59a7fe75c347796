// Folder scans look inside archives (zip, jar, whl, nupkg, tar, tgz, gz) under the limits CI log archives have,
// and inside the archives those hold, down to a depth. A finding inside one is named by the path through the
// archives, joined by `!`: `dist/app.zip!lib/core.jar!config.properties`. What cannot be read (a bomb, a
// corrupt or too deeply nested archive) becomes a skip with its reason and a note: never a silent pass.

import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { DEFAULT_CHUNK_SIZE, type ReadInto } from "../sources/chunks.js";
import {
  ArchiveError,
  type ArchiveLimits,
  type ArchiveProblem,
  ByteLimit,
  DEFAULT_ARCHIVE_LIMITS,
  readLogArchive,
} from "../sources/log-archive.js";
import { tarEntries } from "../sources/tar.js";
import type { Engine } from "./engine.js";
import { DEFAULT_MAX_ARCHIVE_DEPTH } from "./limits.js";
import { type SourceOutcome, scanFile, scanReadable, streamReader } from "./scan-source.js";

export interface ArchiveSettings {
  /** Archives inside archives are opened down to this depth; 0 treats archives as plain (binary) files. */
  maxDepth: number;
  limits: ArchiveLimits;
}

export const DEFAULT_ARCHIVE_SETTINGS: ArchiveSettings = {
  maxDepth: DEFAULT_MAX_ARCHIVE_DEPTH,
  limits: DEFAULT_ARCHIVE_LIMITS,
};

type ArchiveFormat = "zip" | "tar" | "tgz" | "gz";

const FORMATS: [RegExp, ArchiveFormat][] = [
  [/\.(zip|jar|whl|nupkg)$/i, "zip"],
  [/\.(tgz|tar\.gz)$/i, "tgz"],
  [/\.tar$/i, "tar"],
  [/\.gz$/i, "gz"],
];

/** The archive format a name marks, if any. */
export function archiveFormat(name: string): ArchiveFormat | undefined {
  return FORMATS.find(([pattern]) => pattern.test(name))?.[1];
}

export type ArchiveSkip =
  | "archiveBomb"
  | "archiveCorrupt"
  | "archiveUnsafe"
  | "archiveUnsupported"
  | "archiveTooDeep";

const SKIP_REASON: Record<ArchiveProblem | "tooDeep", ArchiveSkip> = {
  bomb: "archiveBomb",
  corrupt: "archiveCorrupt",
  unsafe: "archiveUnsafe",
  unsupported: "archiveUnsupported",
  tooDeep: "archiveTooDeep",
};

const PIECE = 64 * 1024;

async function* pieces(read: ReadInto): AsyncGenerator<Buffer> {
  for (;;) {
    const piece = Buffer.allocUnsafe(PIECE);
    const n = await read(piece, 0, piece.length);
    if (n === 0) return;
    yield piece.subarray(0, n);
  }
}

/** A reader that, once failed, fails again with the same error: the failure is reported once, where it began. */
function sticky(read: ReadInto): ReadInto {
  let failure: unknown;
  return async (target, offset, length) => {
    if (failure !== undefined) throw failure;
    try {
      return await read(target, offset, length);
    } catch (error) {
      failure = error;
      throw error;
    }
  };
}

/** Scans the archives one file holds, collecting an outcome per entry and per thing left out. */
class ArchiveScanner {
  readonly outcomes: SourceOutcome[] = [];
  private readonly reported = new WeakSet<object>();

  constructor(
    private readonly engine: Engine,
    private readonly settings: ArchiveSettings,
  ) {}

  private skip(display: string, problem: ArchiveProblem | "tooDeep", why: string): void {
    this.outcomes.push({ findings: [], bytes: 0, skipped: SKIP_REASON[problem], note: `${display}: ${why}` });
  }

  /** Records an archive's failure once, against the innermost place it was seen; other errors end the scan. */
  private failed(display: string, error: unknown): void {
    if (!(error instanceof ArchiveError)) throw error;
    if (this.reported.has(error)) return;
    this.reported.add(error);
    this.skip(display, error.problem, error.message);
  }

  /** An archive on disk: the first level. */
  async file(path: string, display: string, format: ArchiveFormat): Promise<void> {
    try {
      if (format === "zip") return await this.zip(path, display, 1);
      const { size } = await stat(path);
      const stream = createReadStream(path);
      try {
        await this.stream(sticky(streamReader(stream)), size, display, format, 1);
      } finally {
        stream.destroy();
      }
    } catch (error) {
      if (error instanceof ArchiveError) return this.failed(display, error);
      if ((error as NodeJS.ErrnoException).code === undefined) throw error;
      this.outcomes.push({ findings: [], bytes: 0, skipped: "unreadable" });
    }
  }

  private async zip(path: string, display: string, depth: number): Promise<void> {
    const archive = await readLogArchive(path, this.settings.limits);
    try {
      for (const note of archive.notes)
        this.skip(note.entry === undefined ? display : `${display}!${note.entry}`, note.problem, note.text);
      for (const entry of archive.entries) {
        const where = `${display}!${entry.name}`;
        // Checked before the entry is opened: a stream opened and left unread would hold the file's handle.
        if (this.tooDeep(where, depth)) continue;
        const stream = entry.open();
        try {
          await this.entry(sticky(streamReader(stream)), entry.uncompressedSize, where, depth);
        } catch (error) {
          this.failed(where, error);
        } finally {
          stream.destroy();
        }
      }
    } finally {
      await archive.close();
    }
  }

  /** A tar, a gzip'd tar or a gzip'd file, read as it streams. */
  private async stream(
    read: ReadInto,
    size: number,
    display: string,
    format: Exclude<ArchiveFormat, "zip">,
    depth: number,
  ): Promise<void> {
    let gunzipped: Readable | undefined;
    let source = read;
    if (format !== "tar") {
      gunzipped = this.gunzip(read, size);
      source = sticky(streamReader(gunzipped));
    }
    try {
      if (format === "gz") {
        const inner = basename(display).replace(/\.gz$/i, "");
        return await this.entry(
          source,
          this.settings.limits.maxUncompressedBytes,
          `${display}!${inner}`,
          depth,
        );
      }
      for await (const item of tarEntries(source, this.settings.limits)) {
        const where = `${display}!${item.name}`;
        if (item.kind === "skipped") {
          this.skip(where, item.problem, item.text);
          continue;
        }
        try {
          await this.entry(item.read, item.size, where, depth);
        } catch (error) {
          this.failed(where, error);
        }
      }
    } finally {
      gunzipped?.destroy();
    }
  }

  /** Decompresses a gzip stream, no further than the ratio and total limits allow. */
  private gunzip(read: ReadInto, compressed: number): Readable {
    const { maxRatio, maxUncompressedBytes } = this.settings.limits;
    const cap = Math.min(maxUncompressedBytes, Math.max(1, compressed) * maxRatio);
    const limited = new ByteLimit(
      cap,
      `it inflates past ${cap} bytes: over the ${maxRatio}:1 ratio or the ${maxUncompressedBytes}-byte limit`,
    );
    const source = Readable.from(pieces(read));
    const gunzip = createGunzip();
    source.on("error", (error) => limited.destroy(error));
    gunzip.on("error", (error) =>
      limited.destroy(error instanceof ArchiveError ? error : new ArchiveError(`gzip: ${error.message}`)),
    );
    limited.on("close", () => {
      source.destroy();
      gunzip.destroy();
    });
    source.pipe(gunzip).pipe(limited);
    return limited;
  }

  /** True (and counted) when an entry is an archive one level deeper than allowed. */
  private tooDeep(display: string, depth: number): boolean {
    if (depth < this.settings.maxDepth || !archiveFormat(display)) return false;
    this.skip(
      display,
      "tooDeep",
      `an archive nested deeper than --max-archive-depth ${this.settings.maxDepth}`,
    );
    return true;
  }

  /** One entry's bytes: scanned as text, or opened in turn when its name marks an archive. */
  private async entry(read: ReadInto, size: number, display: string, depth: number): Promise<void> {
    const format = archiveFormat(display);
    if (!format) {
      // A window no larger than the entry: most entries are small, and a full window each would be 8 MB.
      this.outcomes.push(
        await scanReadable(this.engine, read, display, Math.min(DEFAULT_CHUNK_SIZE, size + 1)),
      );
      return;
    }
    if (this.tooDeep(display, depth)) return;
    if (format !== "zip") return this.stream(read, size, display, format, depth + 1);
    // A zip is read from its end: the nested one is written to a temporary file first (its size is bounded
    // by the limits of the archive it came from).
    const dir = await mkdtemp(join(tmpdir(), "leakwarden-archive-"));
    try {
      const path = join(dir, "nested.zip");
      await pipeline(Readable.from(pieces(read)), createWriteStream(path));
      await this.zip(path, display, depth + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Scans one file of a folder scan: an archive (when archives are opened) gives an outcome per entry and per
 * thing it left out; any other file gives one.
 */
export async function scanPath(
  engine: Engine,
  path: string,
  display: string,
  settings: ArchiveSettings,
): Promise<SourceOutcome[]> {
  const format = settings.maxDepth > 0 ? archiveFormat(path) : undefined;
  if (!format) return [await scanFile(engine, path, display)];
  const scanner = new ArchiveScanner(engine, settings);
  await scanner.file(path, display, format);
  return scanner.outcomes;
}
