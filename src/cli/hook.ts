// `leakwarden hook install`: writes a git hook that runs leakwarden: pre-commit (refuse a commit whose staged
// changes add a leaked token) or pre-receive (on a git server, refuse such a push). With husky, it adds a block
// to the shared .husky/ hook instead.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, parseFlags, UsageError } from "./command.js";
import { HOOKS, type HookName, hookScript, MARKER, withHuskyBlock } from "./hook-script.js";
import { didYouMean } from "./suggest.js";

const HELP = `Usage: leakwarden hook install [--pre-commit | --pre-receive] [--force] [REPO]

Writes a git hook into REPO (default: the current repository). The hook finds
leakwarden when it runs: the project's node_modules/.bin, then PATH, then the
leakwarden that installed it. Found nowhere, it refuses (fails closed).

  --pre-commit    refuse a commit whose staged changes add a leaked token
                  (the default in a repository with a working tree)
  --pre-receive   on a git server: refuse a push whose new commits add one
                  (the default in a bare repository); git shows the pusher
                  the findings, redacted
  --force         replace a hook that leakwarden did not write

The hook goes where git looks for it (core.hooksPath is honoured). With husky
(a .husky/ folder), a leakwarden block is added to .husky/pre-commit, which
you commit: it names no path on this machine. Installing again updates it.
The hook reads .leakwarden.yml from the folder git runs it in: the top of the
working tree, or the bare repository itself.
Skip the pre-commit hook for one commit with 'git commit --no-verify'.
Both hooks also refuse a change they could not scan (a line longer than
--max-file-size); add --allow-unscanned to the script's exec line to accept it.

Examples
  leakwarden hook install                               pre-commit, this repository
  npx leakwarden hook install                           the same, from a project dependency
  leakwarden hook install --pre-receive /srv/git/app.git
`;

const FLAGS = {
  "pre-commit": { type: "boolean" },
  "pre-receive": { type: "boolean" },
  force: { type: "boolean" },
} as const;

/** The package's own entry point, next to the compiled code that runs now. */
const CLI_PATH = fileURLToPath(new URL("../../bin/leakwarden.js", import.meta.url));

/** husky's folder, when the repository uses husky: v9 points core.hooksPath at .husky/_, v4 to v8 at .husky. */
function huskyFolder(hooksDir: string, topLevel: string | undefined): string | undefined {
  if (basename(hooksDir) === ".husky") return hooksDir;
  if (basename(hooksDir) === "_" && basename(dirname(hooksDir)) === ".husky") return dirname(hooksDir);
  // husky is set up in package.json but its prepare script has not run yet in this clone.
  if (topLevel && existsSync(join(topLevel, ".husky"))) return join(topLevel, ".husky");
  return undefined;
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o755 });
  renameSync(temporary, path);
}

export const hookCommand: Command = {
  name: "hook",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("hook", args, FLAGS);
    const [action, repoDir = ".", ...extra] = positionals;
    if (action !== "install")
      throw new UsageError(
        action === undefined
          ? "say what to do: 'leakwarden hook install'"
          : `unknown action "${action}"${didYouMean(action, ["install"])}`,
        "hook",
      );
    if (extra.length > 0) throw new UsageError("hook install takes one repository folder", "hook");
    if (values["pre-commit"] && values["pre-receive"])
      throw new UsageError("choose one hook: --pre-commit or --pre-receive", "hook");

    const { GitRepository } = await import("../sources/git.js"); // simple-git loads only when needed
    const repo = await GitRepository.open(repoDir);
    const bare = await repo.isBare();
    const name: HookName = values["pre-receive"]
      ? "pre-receive"
      : values["pre-commit"]
        ? "pre-commit"
        : bare
          ? "pre-receive"
          : "pre-commit";
    if (name === "pre-commit" && bare)
      throw new UsageError(
        `"${repoDir}" is a bare repository: nobody commits in it; use --pre-receive`,
        "hook",
      );

    const hooksDir = resolve(repoDir, await repo.hooksDir());
    const topLevel = bare ? undefined : (await repo.run(["rev-parse", "--show-toplevel"])).trim();
    const husky = name === "pre-commit" ? huskyFolder(hooksDir, topLevel) : undefined;
    if (husky) {
      const path = join(husky, name);
      writeAtomically(path, withHuskyBlock(existsSync(path) ? readFileSync(path, "utf8") : undefined, name));
      io.stdout.write(`Added leakwarden to the husky ${name} hook: ${path} (commit it to share it)\n`);
      return 0;
    }

    const path = join(hooksDir, name);
    if (existsSync(path) && !values.force && !readFileSync(path, "utf8").includes(MARKER)) {
      throw new UsageError(
        `${path} already exists and leakwarden did not write it; add a line running 'leakwarden scan ${HOOKS[name].scan}' to it, or pass --force to replace it`,
        "hook",
      );
    }
    writeAtomically(path, hookScript(name, { node: process.execPath, cli: CLI_PATH }));
    io.stdout.write(`Installed the ${name} hook: ${path}\n`);
    return 0;
  },
};
