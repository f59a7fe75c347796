// Reading a token from the user without it touching argv (shell history, `ps`): from an environment variable
// named by --token-env, from piped stdin, or typed at a terminal with echo off.
import { Secret } from "../scan/secret.js";
import { type Io, UsageError } from "./command.js";

export const TOKEN_ENV_FLAG = { "token-env": { type: "string" } } as const;

/** Reads one line from a terminal without echoing it. */
function readHidden(io: Io, prompt: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = "";
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (error?: Error) => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off("data", onData);
      io.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new UsageError("cancelled"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part as string));
  return Buffer.concat(parts).toString("utf8");
}

/** The token, from --token-env VAR, else stdin (one token; surrounding whitespace is ignored). */
export async function readToken(values: { "token-env"?: string }, io: Io, command: string): Promise<Secret> {
  const secret = await readTokenIfGiven(values, io, command, true);
  if (!secret)
    throw new UsageError(
      `no token on stdin: pipe it in (e.g. 'leakwarden ${command} ... < token.txt') or name a variable with --token-env`,
      command,
    );
  return secret;
}

/** The token when one was given; a terminal is asked only when `ask` is set. */
export async function readTokenIfGiven(
  values: { "token-env"?: string },
  io: Io,
  command: string,
  ask = false,
): Promise<Secret | undefined> {
  const variable = values["token-env"];
  if (variable !== undefined) {
    const value = io.env[variable]?.trim();
    if (!value) throw new UsageError(`--token-env names ${variable}, which is not set or empty`, command);
    return new Secret(value);
  }
  if (io.stdin.isTTY) {
    if (!ask) return undefined;
    const typed = (await readHidden(io, "Token (input hidden): ")).trim();
    return typed ? new Secret(typed) : undefined;
  }
  const text = (await readAll(io.stdin)).trim();
  if (!text) return undefined;
  if (/\s/.test(text))
    throw new UsageError("stdin holds more than one word: give exactly one token", command);
  return new Secret(text);
}
