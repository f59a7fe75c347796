// `leakwarden hook install`: writes a git hook that runs this leakwarden: pre-commit (refuse a commit whose
// staged changes add a leaked token) or pre-receive (on a git server, refuse such a push).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, parseFlags, UsageError } from "./command.js";

const HELP = `Usage: leakwarden hook install [--pre-commit | --pre-receive] [--force] [REPO]

Writes a git hook into REPO (default: the current repository) that runs this
leakwarden, with the node that runs it now, both by absolute path.

  --pre-commit    refuse a commit whose staged changes add a leaked token
                  (the default in a repository with a working tree)
  --pre-receive   on a git server: refuse a push whose new commits add one
                  (the default in a bare repository); git shows the pusher
                  the findings, redacted
  --force         replace a hook that leakwarden did not write

The hook goes where git looks for it (core.hooksPath is honoured) and reads
.leakwarden.yml from the folder git runs it in: the top of the working tree,
or the bare repository itself. Installing again updates it.
Skip the pre-commit hook for one commit with 'git commit --no-verify'.
Both hooks also refuse a change they could not scan (a line longer than
--max-file-size); add --allow-unscanned to the script's exec line to accept it.

Examples
  leakwarden hook install                               pre-commit, this repository
  leakwarden hook install --pre-receive /srv/git/app.git
`;

const FLAGS = {
  "pre-commit": { type: "boolean" },
  "pre-receive": { type: "boolean" },
  force: { type: "boolean" },
} as const;

/** Recognises our own hooks, which may be replaced without --force. */
const MARKER = "Written by 'leakwarden hook install'";

const HOOKS = {
  "pre-commit": {
    scan: "--staged",
    purpose: "refuses a commit whose staged changes add a leaked access token",
  },
  "pre-receive": {
    scan: "--pre-receive",
    purpose: "refuses a push whose new commits add a leaked access token",
  },
} as const;

type HookName = keyof typeof HOOKS;

/** The package's own entry point, next to the compiled code that runs now. */
const CLI_PATH = fileURLToPath(new URL("../../bin/leakwarden.js", import.meta.url));

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function hookScript(name: HookName, node = process.execPath, cli = CLI_PATH): string {
  const { scan, purpose } = HOOKS[name];
  return `#!/bin/sh
# leakwarden ${name} hook: ${purpose}.
# ${MARKER}; delete this file to remove it.
exec ${shellQuote(node)} ${shellQuote(cli)} scan ${scan}
`;
}

export const hookCommand: Command = {
  name: "hook",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("hook", args, FLAGS);
    const [action, repoDir = ".", ...extra] = positionals;
    if (action !== "install")
      throw new UsageError(
        action === undefined ? "say what to do: 'leakwarden hook install'" : `unknown action "${action}"`,
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
    const path = join(hooksDir, name);
    if (existsSync(path) && !values.force && !readFileSync(path, "utf8").includes(MARKER)) {
      throw new UsageError(
        `${path} already exists and leakwarden did not write it; add a line running '${CLI_PATH} scan ${HOOKS[name].scan}' to it, or pass --force to replace it`,
        "hook",
      );
    }
    mkdirSync(hooksDir, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, hookScript(name), { mode: 0o755 });
    renameSync(temporary, path);
    io.stdout.write(`Installed the ${name} hook: ${path}\n`);
    return 0;
  },
};
