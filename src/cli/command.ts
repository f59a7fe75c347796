// What every command looks like, and the errors that map to exit code 2.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UserError } from "../errors.js";
import { didYouMean } from "./suggest.js";

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  name: string;
  help: string;
  run(args: string[], io: Io): Promise<number>;
}

/** Wrong flags or arguments: exit 2 with a hint to read --help. */
export class UsageError extends UserError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util parseArgs, with its errors turned into UsageError and --help handled. */
export function parseFlags<T extends Options>(command: string, args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    let message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    if (unknown) {
      const flags = Object.entries(options).flatMap(([name, o]) => [
        `--${name}`,
        ...(o.short ? [`-${o.short}`] : []),
      ]);
      message = `unknown option "${unknown}"${didYouMean(unknown.split("=")[0] as string, flags)}`;
    }
    throw new UsageError(message, command);
  }
}

export function parseCount(
  value: string | undefined,
  flag: string,
  command: string,
  fallback: number,
  range: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} takes a whole number ${bounds}, not "${value}"`, command);
  }
  return n;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};

/** `25MB`, `512k`, `1048576`. */
export function parseSize(
  value: string | undefined,
  flag: string,
  command: string,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? "x"];
  const size = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : 0;
  if (size < 1) throw new UsageError(`${flag} takes a size such as 25MB or 512KB, not "${value}"`, command);
  return size;
}

export function oneOfFlag<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
  command: string,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new UsageError(
      `${flag} must be one of ${allowed.join(", ")}, not "${value}"${didYouMean(value, allowed)}`,
      command,
    );
  return value as T;
}
