// `.gitignore` and `.ignore` rules for folder scans, read through the `ignore` package (git's own matching
// rules). Each folder's files are read once, when the walk first needs them; a deeper file's rules override a
// shallower one's, as in git. Rules above the scanned folder count from the top of its git working tree down.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Ignore } from "ignore";

// Required, not imported: importing a CommonJS package makes Node lex its 50 KB of source for named exports,
// which cost every scan about 0.1 s of start-up (measured: node -e "await import('ignore')" against require).
const ignore = createRequire(import.meta.url)("ignore") as typeof import("ignore");

const IGNORE_FILES = [".gitignore", ".ignore"] as const;

/** The top of the working tree that holds `folder`, or `folder` itself outside a repository. */
function rulesTop(folder: string): string {
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return folder;
  }
}

export class IgnoreFiles {
  private readonly rules = new Map<string, Ignore | null>();
  private top: string;

  /** `root`: the folder being walked. */
  constructor(root: string) {
    const absolute = resolve(root);
    this.top = rulesTop(absolute);
    // A folder named on the command line is scanned even when the rules above it ignore it (node_modules/x).
    if (this.top !== absolute && this.ignores(absolute, true)) this.top = absolute;
  }

  private rulesOf(dir: string): Ignore | null {
    let rules = this.rules.get(dir);
    if (rules !== undefined) return rules;
    rules = null;
    for (const name of IGNORE_FILES) {
      let text: string;
      try {
        text = readFileSync(join(dir, name), "utf8");
      } catch {
        continue; // absent or unreadable: no rules from this file
      }
      rules = (rules ?? ignore()).add(text);
    }
    this.rules.set(dir, rules);
    return rules;
  }

  /** Whether `path` (under the walked folder) is ignored; the deepest folder whose rules speak decides. */
  ignores(path: string, isDirectory: boolean): boolean {
    const absolute = resolve(path);
    const folders: string[] = [];
    for (let dir = dirname(absolute); ; dir = dirname(dir)) {
      folders.push(dir);
      if (dir === this.top || dirname(dir) === dir) break;
    }
    let ignored = false;
    for (const dir of folders.reverse()) {
      const rules = this.rulesOf(dir);
      if (!rules) continue;
      const rel = relative(dir, absolute).split(sep).join("/");
      const verdict = rules.test(isDirectory ? `${rel}/` : rel);
      if (verdict.ignored) ignored = true;
      else if (verdict.unignored) ignored = false;
    }
    return ignored;
  }
}
