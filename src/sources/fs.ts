// Walks files and folders lazily: one directory handle at a time, never the whole tree in memory.
import { lstat, opendir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { Minimatch } from "minimatch";

export interface FileEntry {
  /** Path to open. */
  path: string;
  /** Path to show and fingerprint: relative to the working folder when inside it, with forward slashes. */
  display: string;
  size: number;
}

export interface SkippedEntry {
  display: string;
  reason: "ignored" | "too-large" | "unreadable";
}

export interface WalkOptions {
  /** Globs matched against paths relative to each target folder (and against their parent folders). */
  ignore?: readonly string[];
  maxFileSize: number;
  onSkip?: (entry: SkippedEntry) => void;
}

/** Folders that are never content: the repository database itself. */
const ALWAYS_SKIPPED = new Set([".git"]);

export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  const shown = rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
  return shown.split(sep).join("/");
}

export function globMatcher(globs: readonly string[]): (relPath: string) => boolean {
  const compiled = globs.map(
    (g) => new Minimatch(g.replace(/\/+$/, ""), { dot: true, matchBase: !g.includes("/") }),
  );
  return (relPath) => compiled.some((m) => m.match(relPath));
}

export async function* walk(targets: readonly string[], options: WalkOptions): AsyncGenerator<FileEntry> {
  const ignored = globMatcher(options.ignore ?? []);
  const skip = options.onSkip ?? (() => {});

  async function* visit(path: string, root: string): AsyncGenerator<FileEntry> {
    const rel = relative(root, path).split(sep).join("/");
    const display = displayPath(path);
    if (rel && ignored(rel)) {
      skip({ display, reason: "ignored" });
      return;
    }
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = rel ? await lstat(path) : await stat(path);
    } catch {
      skip({ display, reason: "unreadable" });
      return;
    }
    if (info.isDirectory()) {
      if (rel && ALWAYS_SKIPPED.has(path.split(sep).pop() as string)) return;
      let dir: Awaited<ReturnType<typeof opendir>>;
      try {
        dir = await opendir(path);
      } catch {
        skip({ display, reason: "unreadable" });
        return;
      }
      const names: string[] = [];
      for await (const entry of dir) names.push(entry.name);
      names.sort();
      for (const name of names) yield* visit(join(path, name), root);
    } else if (info.isFile()) {
      if (info.size > options.maxFileSize) skip({ display, reason: "too-large" });
      else yield { path, display, size: info.size };
    }
    // Symbolic links, sockets and devices are not followed: a link can loop or leave the tree.
  }

  for (const target of targets) {
    let isDir = false;
    try {
      isDir = (await stat(target)).isDirectory();
    } catch {
      throw new Error(`cannot read "${target}": no such file or folder`);
    }
    yield* visit(target, isDir ? target : join(target, ".."));
  }
}
