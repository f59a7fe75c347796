// `leakwarden scan`: files, folders and stdin; git history through scan-git.ts.
import { ConfigError, EMPTY_CONFIG, findDefaultConfig, loadConfigFile, type ScanConfig } from "../config.js";
import { FORMATS, renderReport } from "../report/render.js";
import { runInfo } from "../report/run-info.js";
import {
  DEFAULT_MAX_ARCHIVE_DEPTH,
  DEFAULT_MAX_FILE_SIZE,
  defaultThreads,
  maxThreads,
} from "../scan/limits.js";
import { selectRules } from "../scan/settings.js";
import { type KeptResult, suppressKnown } from "../scan/suppress.js";
import type { Command, Io } from "./command.js";
import { oneOfFlag, parseCount, parseFlags, parseSize } from "./command.js";
import { writeReport } from "./output.js";
import { ProgressLine, rate } from "./progress.js";
import { planScanActionsIfAsked, SCAN_ACTION_HELP } from "./scan-action-flags.js";
import type { ScanAnnotations } from "./scan-actions.js";
import { GIT_FLAGS, SCAN_FLAGS } from "./scan-flags.js";
import { colorEnabled, formatBytes, plural, style } from "./terminal.js";

const HELP = `Usage: leakwarden scan [options] [TARGET ...]

Scans files, folders (recursively, skipping .git/, .leakwarden/ and what .gitignore and .ignore
files leave out) and stdin for leaked access
tokens: Azure DevOps PATs (84- and 52-character), GitHub, npm, GitLab, Slack,
AWS, Google, OpenAI, Anthropic, Stripe, Hugging Face, PyPI and private keys.
Tokens inside "Authorization: Basic" headers, URLs and curl -u are decoded.

TARGET            a file, a folder, or - for stdin (default: .)

Output
  --format F      text (default), json, sarif (GitHub code scanning), csv,
                  junit (CI dashboards), github (Actions annotations) or html
                  (one self-contained page, sortable and filterable)
  -o, --output FILE
                  write the report to FILE instead of stdout
  --show-secrets  print the secret values; by default only a redacted preview

What to scan
  --config FILE   settings file (default: .leakwarden.yml in the first target folder)
  --exclude GLOB  leave out matching paths; repeatable (e.g. --exclude 'dist/**')
  --max-file-size SIZE
                  git scans hold a file change's added lines in pieces of
                  SIZE (default: 25MB); a single line longer than SIZE is
                  skipped and counted as too large. Files and stdin are read
                  in chunks whatever their size.
  --rules DIR     add the rule files (*.yml) in DIR; repeatable
  --baseline FILE ignore findings already in an earlier JSON report
                  (.leakwardenignore beside the target lists fingerprints
                  to ignore too, one per line, # comments)
  --no-ignore     scan what .gitignore and .ignore files leave out as well
  --max-archive-depth N
                  open zip, jar, whl, nupkg, tar, tgz and gz files, and the
                  archives inside them down to N levels (default: 2; 0 scans
                  archives as plain files). A finding inside one is named
                  outer.zip!inner/file; a bomb, a corrupt or a deeper archive
                  is counted as skipped and named in the summary
  --threads N     scanning threads (default: the number of cores; at most
                  4 per core, and 64); a git history read by blobs: its
                  lanes (default: one per two cores)
  --exit-code N   the exit status when there are findings (default: 1;
                  0 never fails)

Git (TARGET is a repository; the lines each commit added are scanned, and
findings carry the commit, author and date)
  --git           the whole history: every commit of every branch and tag
  --range REVS    only these commits: A..B, A...B or a branch (implies --git)
  --since DATE    only commits after DATE: 2024-01-31, "2 weeks ago"
  --history-scan blobs|patches
                  how a history is read. blobs: each file version once
                  (git cat-file), scanning only what changed from its parent's
                  version (on --threads threads when there is much; by
                  default one per two cores), then the
                  patches of only the commits that bring one holding a secret;
                  patches: every commit's patch (git log -p). Same findings
                  either way. Default: blobs for --git, patches with --range
                  or --since
  --staged        what is staged for the next commit (a pre-commit hook)
  --pre-receive   be a git server's pre-receive hook: read "<old> <new> <ref>"
                  lines on stdin and exit 1 to reject a push that adds a leak
                  ('leakwarden hook install' writes both hooks)
  --allow-unscanned
                  with --staged or --pre-receive: accept changes that could
                  not be scanned (too large, unreadable); by default the hook
                  refuses them

${SCAN_ACTION_HELP}

Exit status: 0 no findings, 1 findings (or --exit-code N), 2 usage or runtime
error. With --staged and --pre-receive, content that could not be scanned
exits 1 too, unless --allow-unscanned.

Examples
  leakwarden scan                          scan the current folder
  leakwarden scan src/ deploy.sh           scan a folder and a file
  kubectl logs pod/ci-42 | leakwarden scan -
  leakwarden scan --format sarif --output leakwarden.sarif .
  leakwarden scan --format json --output baseline.json    # accept today's findings
  leakwarden scan --baseline baseline.json                # report only new ones
  leakwarden scan --revoke .               # revoke leaked tokens that are in the registry
  leakwarden scan --dry-run --policy all . # what --revoke --policy all would revoke
  leakwarden scan --git                    every commit, including deleted secrets
  leakwarden scan --range origin/main..HEAD --format sarif   what a branch adds
`;

export type ScanValues = ReturnType<typeof parseFlags<typeof SCAN_FLAGS>>["values"];

export function readConfig(values: ScanValues, targets: string[]): ScanConfig {
  const path = values.config ?? findDefaultConfig(targets);
  if (!path) return EMPTY_CONFIG;
  try {
    return loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot read config "${path}"`);
  }
}

/** The exit status for findings (--exit-code), checked before the scan starts. */
export function findingsExitCode(values: ScanValues): number {
  return parseCount(values["exit-code"], "--exit-code", "scan", 1, { min: 0, max: 125 });
}

/** --max-file-size, checked before the scan starts. */
export function maxFileSize(values: ScanValues): number {
  return parseSize(values["max-file-size"], "--max-file-size", "scan", DEFAULT_MAX_FILE_SIZE);
}

/** Renders the report in the chosen format; resolves to the exit code. */
export async function report(
  result: KeptResult,
  values: ScanValues,
  targets: string[],
  ruleDirs: string[],
  disabled: string[],
  io: Io,
  annotations?: ScanAnnotations,
): Promise<number> {
  const format = oneOfFlag(values.format, FORMATS, "--format", "scan", "text");
  const { findings } = result;
  const showSecrets = values["show-secrets"] === true;
  const toFile = values.output !== undefined && values.output !== "-";
  const rules = selectRules({ ruleDirs, disabledRules: disabled, allow: [] });
  const text = await renderReport(format, {
    findings,
    stats: result.stats,
    rules,
    run: runInfo(rules, targets, result.stats),
    suppressed: result.suppressed,
    showSecrets,
    extra: annotations?.json,
    text: { style: style(!toFile && colorEnabled(io.stdout)), note: annotations?.text },
  });
  writeReport(text, values.output, io);
  if (toFile && format !== "text") {
    io.stderr.write(`${plural(findings.length, "finding")} written to ${values.output}\n`);
  }
  return findings.length > 0 ? findingsExitCode(values) : 0;
}

export const scanCommand: Command = {
  name: "scan",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("scan", args, SCAN_FLAGS);
    oneOfFlag(values.format, FORMATS, "--format", "scan", "text");
    findingsExitCode(values);
    maxFileSize(values); // a git scan's limit; checked here too, so that a bad value is never ignored
    if (GIT_FLAGS.some((flag) => values[flag] !== undefined)) {
      // Loaded on demand: file scans start faster without git's modules.
      const { runGitScan } = await import("./scan-git.js");
      return runGitScan(values, positionals, io);
    }
    const targets = positionals.length > 0 ? positionals : ["."];
    const config = readConfig(values, targets);
    const ruleDirs = values.rules ?? [];
    const actions = await planScanActionsIfAsked(
      values,
      { ruleDirs, disabledRules: config.disabledRules },
      io,
      targets,
    );
    const progress = new ProgressLine(io.stderr);
    // Loaded here: a history scan never needs the folder walk, archives or the thread pool.
    const { runScan } = await import("../scan/run.js");
    const result = await runScan(targets, {
      ruleDirs,
      disabledRules: config.disabledRules,
      allow: config.allow,
      ignore: [...config.pathsIgnore, ...(values.exclude ?? [])],
      ignoreFiles: values["no-ignore"] !== true,
      threads: parseCount(values.threads, "--threads", "scan", defaultThreads(), { max: maxThreads() }),
      maxArchiveDepth: parseCount(
        values["max-archive-depth"],
        "--max-archive-depth",
        "scan",
        DEFAULT_MAX_ARCHIVE_DEPTH,
        {
          min: 0,
          max: 16,
        },
      ),
      stdin: io.stdin,
      onProgress: (p) =>
        progress.update(
          () =>
            `scanning: ${plural(p.files, "file")} · ${formatBytes(p.bytes)} · ${rate(p.bytes, p.elapsedMs)}`,
        ),
    });
    progress.done();
    const kept = suppressKnown(result, targets, values.baseline);
    return await report(kept, values, targets, ruleDirs, config.disabledRules, io, await actions?.(kept));
  },
};
