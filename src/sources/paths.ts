// How paths are shown and matched: relative to the working folder when inside it, with forward slashes; and
// the globs of paths-ignore and --exclude. Apart from the folder walk, which a history scan does not load.
import { createRequire } from "node:module";
import { isAbsolute, relative, sep } from "node:path";

export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  const shown = rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
  return shown.split(sep).join("/");
}

/** Whether a path (relative, forward slashes) matches one of `globs`; minimatch is loaded only for some. */
export function globMatcher(globs: readonly string[]): (relPath: string) => boolean {
  if (globs.length === 0) return () => false;
  const { Minimatch } = createRequire(import.meta.url)("minimatch") as typeof import("minimatch");
  const compiled = globs.map(
    (g) => new Minimatch(g.replace(/\/+$/, ""), { dot: true, matchBase: !g.includes("/") }),
  );
  return (relPath) => compiled.some((m) => m.match(relPath));
}
