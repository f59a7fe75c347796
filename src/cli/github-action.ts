// The GitHub Action's entry point (action.yml runs it from the action's own checkout): scans what the event
// brought (a push's new commits, a pull request's commits, else the whole history), writes SARIF for code
// scanning, annotates with workflow commands, sets the step's outputs, and fails on findings unless the
// `exit-code` input says otherwise.
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { UserError } from "../errors.js";
import { escapeData } from "../report/github.js";
import type { Io } from "./command.js";
import { main } from "./main.js";

const ZERO = /^0+$/;

interface PushEvent {
  before?: string;
  after?: string;
  deleted?: boolean;
  repository?: { default_branch?: string };
}
interface PullRequestEvent {
  pull_request?: { base?: { sha?: string }; head?: { sha?: string } };
}

/** An input as GitHub passes it (INPUT_EXIT-CODE), or as a composite action's env can name it (INPUT_EXIT_CODE). */
function input(env: NodeJS.ProcessEnv, name: string): string {
  const key = `INPUT_${name.toUpperCase()}`;
  return (env[key] ?? env[key.replaceAll("-", "_")] ?? "").trim();
}

function readEvent(env: NodeJS.ProcessEnv): unknown {
  const path = env.GITHUB_EVENT_PATH;
  if (!path) throw new UserError("GITHUB_EVENT_PATH is not set: run this as a GitHub Action step");
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new UserError(`cannot read the event payload "${path}"`);
  }
}

/** Which commits to scan, as `scan` arguments, and how to describe them. */
async function selection(
  eventName: string,
  event: unknown,
  repoDir: string,
): Promise<{ args: string[]; what: string } | undefined> {
  const { GitRepository } = await import("../sources/git.js");
  const repo = await GitRepository.open(repoDir);
  const present = async (revision: string) => (await repo.commitOf(revision)) !== undefined;
  const need = async (sha: string) => {
    if (!(await present(sha)))
      throw new UserError(
        `commit ${sha} is not in the checkout: give actions/checkout "fetch-depth: 0" so that the whole range is there`,
      );
  };
  if (eventName === "push") {
    const { before = "", after = "", deleted, repository } = event as PushEvent;
    if (deleted || after === "" || ZERO.test(after)) return undefined;
    await need(after);
    if (!ZERO.test(before)) {
      await need(before);
      return {
        args: ["--range", `${before}..${after}`],
        what: `the pushed commits ${before.slice(0, 7)}..${after.slice(0, 7)}`,
      };
    }
    // A new branch: what it adds to the default branch, or its whole history when that is not fetched.
    const base = `refs/remotes/origin/${repository?.default_branch ?? "main"}`;
    if (await present(base))
      return { args: ["--range", `${base}..${after}`], what: `the new branch's commits` };
    return { args: ["--range", after], what: `the history of ${after.slice(0, 7)}` };
  }
  if (eventName === "pull_request" || eventName === "pull_request_target") {
    const base = (event as PullRequestEvent).pull_request?.base?.sha ?? "";
    const head = (event as PullRequestEvent).pull_request?.head?.sha ?? "";
    if (!base || !head) throw new UserError("the pull_request event has no base and head commits");
    await need(base);
    await need(head);
    return { args: ["--range", `${base}..${head}`], what: "the pull request's commits" };
  }
  return { args: ["--git"], what: "the whole history" };
}

function countResults(sarifPath: string): number {
  const sarif = JSON.parse(readFileSync(sarifPath, "utf8")) as { runs: { results: unknown[] }[] };
  return sarif.runs.reduce((n, run) => n + run.results.length, 0);
}

export async function runAction(io: Io): Promise<number> {
  const { env } = io;
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  try {
    const repoDir = resolve(workspace, input(env, "path") || ".");
    const eventName = env.GITHUB_EVENT_NAME ?? "";
    const chosen = await selection(eventName, readEvent(env), repoDir);
    if (!chosen) {
      io.stdout.write("::notice title=leakwarden::Nothing to scan: the push deleted a ref\n");
      return 0;
    }
    const sarif = resolve(workspace, input(env, "sarif") || "leakwarden.sarif");
    const exitCode = Number(input(env, "exit-code") || "1");
    if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255)
      throw new UserError(
        `the exit-code input takes a whole number from 0 to 255, not "${input(env, "exit-code")}"`,
      );
    const options = [
      ...(input(env, "config") ? ["--config", resolve(workspace, input(env, "config"))] : []),
      ...(input(env, "baseline") ? ["--baseline", resolve(workspace, input(env, "baseline"))] : []),
      ...input(env, "rules")
        .split(/[\n,]/)
        .map((dir) => dir.trim())
        .filter(Boolean)
        .flatMap((dir) => ["--rules", resolve(workspace, dir)]),
    ];
    mkdirSync(dirname(sarif), { recursive: true });
    io.stderr.write(`leakwarden: scanning ${chosen.what}\n`);
    const scan = ["scan", ...chosen.args, ...options];
    const code = await main([...scan, "--format", "sarif", "--output", sarif, repoDir], io);
    if (code > 1) return code;
    // The annotations: the same scan, shown on the pull request and the run's summary.
    const annotated = await main([...scan, "--format", "github", repoDir], io);
    if (annotated > 1) return annotated;
    const findings = countResults(sarif);
    if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `findings=${findings}\nsarif=${sarif}\n`);
    if (env.GITHUB_STEP_SUMMARY)
      appendFileSync(
        env.GITHUB_STEP_SUMMARY,
        `### leakwarden\n\n${findings === 0 ? "No leaked secrets" : `**${findings} leaked secrets**`} in ${chosen.what}. SARIF: \`${relative(workspace, sarif)}\`\n`,
      );
    return findings > 0 ? exitCode : 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stdout.write(`::error title=leakwarden::${escapeData(message)}\n`);
    return 2;
  }
}
