// The leakwarden command line: dispatches to one module per command and maps errors to exit code 2.
import { ConfigError } from "../config.js";
import { BaselineError } from "../scan/baseline.js";
import { RuleError } from "../scan/rules.js";
import { SettingsError } from "../scan/settings.js";
import { RepositoryError } from "../sources/repository-error.js";
import { VERSION } from "../version.js";
import { auditCommand } from "./audit.js";
import { type Command, type Io, UsageError } from "./command.js";

const EXPECTED = [
  UsageError,
  RuleError,
  ConfigError,
  BaselineError,
  SettingsError,
  RepositoryError,
  ...EXPECTED_STORE_ERRORS,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `leakwarden ${VERSION}: finds leaked access tokens, and revokes the ones your organisation issued.

Usage: leakwarden <command> [options]

Commands
${lines.join("\n")}

Run 'leakwarden <command> --help' for a command's options and examples.
`;
}

/** Errors whose message is already a full sentence for the user. */
const EXPECTED = [
  UsageError,
  RuleError,
  ConfigError,
  BaselineError,
  SettingsError,
  RepositoryError,
  ...EXPECTED_STORE_ERRORS,
];

export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? topic.help : overview());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"; run 'leakwarden --help' for the list`);
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(command.help);
      return 0;
    }
    return await command.run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const prefix = command ? `leakwarden ${command.name}` : "leakwarden";
    const hint = error instanceof UsageError && command ? ` (see 'leakwarden ${command.name} --help')` : "";
    io.stderr.write(`${prefix}: ${message}${hint}\n`);
    if (!EXPECTED.some((type) => error instanceof type) && io.env.LEAKWARDEN_DEBUG) {
      io.stderr.write(`${(error as Error).stack ?? ""}\n`);
    }
    return 2;
  }
}
