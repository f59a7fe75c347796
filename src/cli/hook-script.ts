// The shell that leakwarden's git hooks run. It finds leakwarden when the hook runs, not when it was written,
// so that a hook committed with husky works on every clone: the project's own installation
// (node_modules/.bin, from the top of the working tree), then `leakwarden` on PATH, then (in a private hooks
// folder only) the installation that wrote the hook. Found nowhere, the hook fails closed.

/** Recognises our own hooks and husky blocks, which may be replaced without --force. */
export const MARKER = "Written by 'leakwarden hook install'";
const BLOCK_END = "# End of leakwarden's block.";

export const HOOKS = {
  "pre-commit": {
    scan: "--staged",
    purpose: "refuses a commit whose staged changes add a leaked access token",
  },
  "pre-receive": {
    scan: "--pre-receive",
    purpose: "refuses a push whose new commits add a leaked access token",
  },
} as const;

export type HookName = keyof typeof HOOKS;

/** The installation that writes the hook: tried last, and only in hooks that stay on this machine. */
export interface Installation {
  node: string;
  cli: string;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Runs leakwarden with the hook's scan; its exit status is the hook's (non-zero refuses). */
function runBlock(name: HookName, installation?: Installation): string {
  const { scan, purpose } = HOOKS[name];
  const fallback = installation
    ? `  elif [ -x ${shellQuote(installation.node)} ] && [ -f ${shellQuote(installation.cli)} ]; then
    ${shellQuote(installation.node)} ${shellQuote(installation.cli)} scan ${scan}\n`
    : "";
  return `# leakwarden ${name}: ${purpose}.
# ${MARKER}; run it again to update this block.
if [ -x ./node_modules/.bin/leakwarden ]; then
    ./node_modules/.bin/leakwarden scan ${scan}
  elif command -v leakwarden >/dev/null 2>&1; then
    leakwarden scan ${scan}
${fallback}  else
    echo "leakwarden ${name} hook: leakwarden is not installed here; install it (npm install --save-dev leakwarden) or remove this hook" >&2
    false
fi || exit $?
${BLOCK_END}
`;
}

/** A whole hook file of our own (.git/hooks, core.hooksPath). */
export function hookScript(name: HookName, installation?: Installation): string {
  return `#!/bin/sh\n${runBlock(name, installation)}`;
}

/**
 * A husky hook file (.husky/pre-commit), shared through the repository: our block is added to what is there,
 * or replaces our earlier block, and names no path on this machine.
 */
export function withHuskyBlock(existing: string | undefined, name: HookName): string {
  const block = runBlock(name);
  if (existing === undefined || existing.trim() === "") return block;
  const lines = existing.split("\n");
  const start = lines.findIndex((line) => line.includes(MARKER));
  const end = lines.indexOf(BLOCK_END);
  if (start > 0 && end > start) {
    // Our block starts one line above the marker (its title line).
    lines.splice(start - 1, end - start + 2, block.trimEnd());
    return lines.join("\n");
  }
  return `${existing.replace(/\n*$/, "\n")}\n${block}`;
}
