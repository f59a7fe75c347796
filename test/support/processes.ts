// The CLI as a child process that runs alongside the test: for concurrent runs and for killing one mid-job.
import { type ChildProcess, spawn } from "node:child_process";
import { CLI, type CliResult, ROOT } from "./cli.js";

export interface Running {
  child: ChildProcess;
  /** Resolves when the process ends; `signal` is set when it was killed. */
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

export function spawnCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdin?.end(options.input ?? "");
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { child, done };
}
