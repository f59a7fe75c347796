// `leakwarden scan --git | --range | --since | --staged | --pre-receive`: git history, ranges, staged changes and
// a git server's pre-receive hook, with the output formats, baseline, config and allowlists of `scan`.
import type { Readable } from "node:stream";
import {
  type HistoryMethod,
  type HistoryOptions,
  type HistoryResult,
  historyMethod,
  scanHistory,
  scanPush,
  scanStaged,
} from "../scan/history.js";
import { defaultThreads, maxThreads } from "../scan/limits.js";
import { createEngine } from "../scan/settings.js";
import { suppressKnown } from "../scan/suppress.js";
import { OBJECT_NAME, type PushUpdate } from "../sources/git.js";
import { type Io, oneOfFlag, parseCount, UsageError } from "./command.js";
import { ProgressLine } from "./progress.js";
import { maxFileSize, readConfig, report, type ScanValues } from "./scan.js";
import { planScanActionsIfAsked } from "./scan-action-flags.js";
import { checkSince } from "./since.js";
import { formatBytes, plural, thousands } from "./terminal.js";

type GitMode = "history" | "staged" | "pre-receive";

const HISTORY_METHODS: readonly HistoryMethod[] = ["auto", "blobs", "patches"];

function methodOf(values: ScanValues): HistoryMethod {
  return oneOfFlag(values["history-scan"], HISTORY_METHODS, "--history-scan", "scan", "auto");
}

function gitMode(values: ScanValues, positionals: string[]): GitMode {
  const modes: [GitMode, string][] = [];
  if (values.git || values.range !== undefined || values.since !== undefined) {
    modes.push(["history", values.range !== undefined ? "--range" : values.git ? "--git" : "--since"]);
  }
  if (values.staged) modes.push(["staged", "--staged"]);
  if (values["pre-receive"]) modes.push(["pre-receive", "--pre-receive"]);
  if (modes.length === 0 && values["history-scan"] !== undefined)
    throw new UsageError("--history-scan applies to --git, --range and --since", "scan");
  if (modes.length === 0)
    throw new UsageError("--allow-unscanned applies to the hooks: --staged and --pre-receive", "scan");
  if (modes.length > 1)
    throw new UsageError(`${modes.map(([, flag]) => flag).join(" and ")} cannot be combined`, "scan");
  if (positionals.length > 1 || positionals[0] === "-")
    throw new UsageError("a git scan takes one repository folder (default: the current one)", "scan");
  if (values["max-archive-depth"] !== undefined)
    throw new UsageError(
      "--max-archive-depth applies to file scans; a git scan reads the lines commits added",
      "scan",
    );
  checkSince(values.since);
  const mode = (modes[0] as [GitMode, string])[0];
  if (values["history-scan"] !== undefined && mode !== "history")
    throw new UsageError("--history-scan applies to --git, --range and --since", "scan");
  if (
    values.threads !== undefined &&
    (mode !== "history" ||
      historyMethod({ range: values.range, since: values.since }, methodOf(values)) !== "blobs")
  )
    throw new UsageError(
      "--threads applies to file scans and to git history scans by blobs (see --history-scan)",
      "scan",
    );
  if (values["allow-unscanned"] && mode === "history")
    throw new UsageError("--allow-unscanned applies to the hooks: --staged and --pre-receive", "scan");
  if (mode === "pre-receive" && values["show-secrets"])
    throw new UsageError(
      "--pre-receive never prints secret values: they would reach the pusher's terminal",
      "scan",
    );
  return mode;
}

/** Reads git's pre-receive input: one `<old> <new> <ref>` line per updated ref. */
export async function readPushUpdates(stdin: Readable): Promise<PushUpdate[]> {
  let text = "";
  for await (const chunk of stdin) text += chunk.toString();
  const updates: PushUpdate[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    const [before = "", after = "", ref = "", ...rest] = line.trim().split(" ");
    if (!OBJECT_NAME.test(before) || !OBJECT_NAME.test(after) || ref === "" || rest.length > 0) {
      throw new UsageError(
        `stdin line ${index + 1} is not "<old-sha> <new-sha> <ref>"; --pre-receive reads what git gives a pre-receive hook`,
        "scan",
      );
    }
    updates.push({ before, after, ref });
  });
  return updates;
}

const REJECTED = `leakwarden: push rejected: it adds the leaked secrets listed above.
  Take them out of the commits (git commit --amend, or git rebase -i for older ones), then push again.
  A token that was ever shared anywhere else must be revoked and replaced too.
`;

export async function runGitScan(values: ScanValues, positionals: string[], io: Io): Promise<number> {
  const mode = gitMode(values, positionals);
  const repo = positionals[0] ?? ".";
  const config = readConfig(values, [repo]);
  const ruleDirs = values.rules ?? [];
  const engineSettings = { ruleDirs, disabledRules: config.disabledRules, allow: config.allow };
  const engine = createEngine(engineSettings);
  const actions = await planScanActionsIfAsked(
    values,
    { ruleDirs, disabledRules: config.disabledRules },
    io,
    [repo],
  );
  const progress = new ProgressLine(io.stderr);
  const byBlobs =
    mode === "history" &&
    historyMethod({ range: values.range, since: values.since }, methodOf(values)) === "blobs";
  const options: HistoryOptions = {
    engineSettings,
    method: methodOf(values),
    // Unset, a scan by blobs picks its own lanes (see history-blobs.ts).
    ...(values.threads !== undefined
      ? { threads: parseCount(values.threads, "--threads", "scan", defaultThreads(), { max: maxThreads() }) }
      : {}),
    maxFileSize: maxFileSize(values),
    ignore: [...config.pathsIgnore, ...(values.exclude ?? [])],
    onProgress: (p) =>
      progress.update(() => {
        const perSecond = Math.round(p.commits / Math.max(p.elapsedMs / 1000, 0.001));
        return `scanning history: ${plural(p.commits, "commit")} · ${formatBytes(p.bytes)} ${byBlobs ? "of blobs read" : "added"} · ${thousands(perSecond)} commits/s`;
      }),
  };
  let result: HistoryResult;
  try {
    if (mode === "staged") result = await scanStaged(repo, engine, options);
    else if (mode === "pre-receive") {
      // What other refs reach is already on the server: a push that merges it in adds nothing new.
      const updates = await readPushUpdates(io.stdin);
      result = await scanPush(repo, updates, engine, { ...options, excludeOtherRefs: true });
    } else result = await scanHistory(repo, { range: values.range, since: values.since }, engine, options);
  } finally {
    progress.done();
  }
  if (result.stats.shallow)
    io.stderr.write(
      "leakwarden: warning: a shallow clone: history before its oldest commits is missing, so where a secret seen there was introduced is unknown (fetch the full history: git fetch --unshallow)\n",
    );
  const kept = suppressKnown(result, [repo], values.baseline);
  const code = await report(kept, values, [repo], ruleDirs, config.disabledRules, io, await actions?.(kept));
  if (mode === "pre-receive" && code !== 0) io.stderr.write(REJECTED);
  if (mode === "history" || values["allow-unscanned"]) return code;
  // A hook is a control: what it could not look at does not pass.
  const { tooLarge, unreadable } = result.stats.skippedBy;
  if (tooLarge + unreadable === 0) return code;
  io.stderr.write(unscannedRefusal(mode, tooLarge + unreadable));
  return code === 0 ? 1 : code;
}

function unscannedRefusal(mode: "staged" | "pre-receive", count: number): string {
  const what = mode === "staged" ? "commit" : "push";
  return `leakwarden: ${what} rejected: ${plural(count, "file change")} could not be scanned (see the summary above).
  A line longer than --max-file-size cannot be held; split it, or have the ${mode === "staged" ? "hook" : "server's hook"} run
  'leakwarden scan ${mode === "staged" ? "--staged" : "--pre-receive"} --allow-unscanned' to accept such changes unscanned.
`;
}
