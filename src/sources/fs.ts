// Walks files and folders lazily: one directory listing at a time, never the whole tree in memory.
import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import { UserError } from "../errors.js";
import { IgnoreFiles } from "./ignore-files.js";
import { displayPath, globMatcher } from "./paths.js";

export interface FileEntry {
  /** Path to open. */
  path: string;
  /** Path to show and fingerprint: relative to the working folder when inside it, with forward slashes. */
  display: string;
  size: number;
}

export interface SkippedEntry {
  display: string;
  /** `ignored`: by a glob; `gitignored`: by a .gitignore or .ignore file. */
  reason: "ignored" | "gitignored" | "unreadable";
}

export interface WalkOptions {
  /** Globs matched against paths relative to each target folder (and against their parent folders). */
  ignore?: readonly string[];
  /** Honour .gitignore and .ignore files in target folders (a file named as a target is always scanned). */
  ignoreFiles?: boolean;
  onSkip?: (entry: SkippedEntry) => void;
}

/** A target that is neither a file nor a folder (a FIFO, a socket, a device): a clear refusal, not "0 files". */
export class TargetError extends UserError {}

function kindOf(info: Stats): string {
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isSocket()) return "a socket";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  return "not a regular file";
}

/** Folders that are never content: the git database, and leakwarden's own (its database and repository cache). */
const ALWAYS_SKIPPED = new Set([".git", ".leakwarden"]);

/**
 * Yields the files under `targets`, depth first in name order. Directory reads are synchronous: each is a
 * few microseconds, far less than a round trip through the I/O pool, and the scan waits on the walk.
 */
export function* walk(targets: readonly string[], options: WalkOptions): Generator<FileEntry> {
  const ignored = globMatcher(options.ignore ?? []);
  const skip = options.onSkip ?? (() => {});

  function* visit(path: string, root: string, rules?: IgnoreFiles, known?: Dirent): Generator<FileEntry> {
    const rel = relative(root, path).split(sep).join("/");
    if (rel && ignored(rel)) {
      skip({ display: displayPath(path), reason: "ignored" });
      return;
    }
    // Inside a folder, symbolic links, sockets and devices are not followed: a link can loop or leave the
    // tree. A target itself (no directory entry) is followed: the user named it.
    if (known?.isSymbolicLink()) return;
    let info: Stats;
    try {
      info = known ? lstatSync(path) : statSync(path);
    } catch {
      skip({ display: displayPath(path), reason: "unreadable" });
      return;
    }
    if (rel && info.isDirectory() && ALWAYS_SKIPPED.has(basename(path))) return;
    if (rel && rules?.ignores(path, info.isDirectory())) {
      skip({ display: displayPath(path), reason: "gitignored" });
      return;
    }
    if (info.isDirectory()) {
      let entries: Dirent[];
      try {
        entries = readdirSync(path, { withFileTypes: true });
      } catch {
        skip({ display: displayPath(path), reason: "unreadable" });
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) yield* visit(join(path, entry.name), root, rules, entry);
    } else if (info.isFile()) {
      // Any size: large files are read in chunks, with flat memory.
      yield { path, display: displayPath(path), size: info.size };
    }
  }

  for (const target of targets) {
    let info: Stats;
    try {
      info = statSync(target);
    } catch {
      throw new Error(`cannot read "${target}": no such file or folder`);
    }
    if (!info.isDirectory() && !info.isFile())
      throw new TargetError(
        `cannot scan "${target}": it is ${kindOf(info)}; give a file, a folder, or - for stdin`,
      );
    const rules = info.isDirectory() && options.ignoreFiles ? new IgnoreFiles(target) : undefined;
    yield* visit(target, info.isDirectory() ? target : join(target, ".."), rules);
  }
}
