// The leakwarden command line: dispatches to one module per command, loaded only when it runs (start-up stays
// fast), and maps errors to exit code 2.
import { UserError } from "../errors.js";
import { VERSION } from "../version.js";
import { type Command, type Io, UsageError } from "./command.js";
import { didYouMean } from "./suggest.js";

interface Entry {
  name: string;
  summary: string;
  /** The command's module; given the command's arguments, it may start work that does not need it. */
  load: (args: string[]) => Promise<Command>;
}

const COMMANDS: Entry[] = [
  {
    name: "scan",
    summary: "scan files, folders, stdin or git history for leaked tokens",
    load: async (args) => {
      await (await import("./scan-ahead.js")).startScanAhead(args);
      return (await import("./scan.js")).scanCommand;
    },
  },
  {
    name: "rules",
    summary: "list the detection rules, or test their examples",
    load: async () => (await import("./rules.js")).rulesCommand,
  },
  {
    name: "hook",
    summary: "install a git hook that refuses commits or pushes that leak tokens",
    load: async () => (await import("./hook.js")).hookCommand,
  },
  {
    name: "registry",
    summary: "manage the registry of the organisation's tokens (by hash)",
    load: async () => (await import("./registry.js")).registryCommand,
  },
  {
    name: "findings",
    summary: "review recorded findings and resolve them",
    load: async () => (await import("./findings.js")).findingsCommand,
  },
  {
    name: "revoke",
    summary: "revoke a finding's token now, or run queued revocations",
    load: async () => (await import("./revoke.js")).revokeCommand,
  },
  {
    name: "audit",
    summary: "show the audit log of registrations, triage and revocations",
    load: async () => (await import("./audit.js")).auditCommand,
  },
  {
    name: "console",
    summary: "open the web console over the local database (one-time sign-in link)",
    load: async () => (await import("./console.js")).consoleCommand,
  },
  {
    name: "db",
    summary: "the database's schema version, and migrating it (SQLite or PostgreSQL)",
    load: async () => (await import("./db.js")).dbCommand,
  },
  {
    name: "backfill",
    summary: "queue a scan of whole repositories' history for the GitHub App",
    load: async () => (await import("./backfill.js")).backfillCommand,
  },
  {
    name: "serve",
    summary: "run the GitHub App: scan pushes and CI logs, revoke, open issues",
    load: async () => (await import("./serve.js")).serveCommand,
  },
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `leakwarden ${VERSION}: finds leaked access tokens, and revokes the ones your organisation issued.

Usage: leakwarden <command> [options]

Commands
${lines.join("\n")}

Options
  -h, --help      this overview; 'leakwarden <command> --help' for a command's
                  options and examples
  -v, --version   the version
`;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" && rest[0]) return main([rest[0], "--help"], io);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(overview());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  try {
    if (!entry) {
      const guess = didYouMean(
        name,
        COMMANDS.map((c) => c.name),
      );
      throw new UsageError(`unknown command "${name}"${guess || "; run 'leakwarden --help' for the list"}`);
    }
    const command = await entry.load(rest);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const prefix = entry ? `leakwarden ${entry.name}` : "leakwarden";
    const hint = error instanceof UsageError && entry ? ` (see 'leakwarden ${entry.name} --help')` : "";
    io.stderr.write(`${prefix}: ${message}${hint}\n`);
    if (!(error instanceof UserError) && io.env.LEAKWARDEN_DEBUG)
      io.stderr.write(`${(error as Error).stack ?? ""}\n`);
    return 2;
  }
}
