// The options of `leakwarden scan`, apart from the command: scan-ahead.ts reads them before the scanner loads.
import { SCAN_ACTION_FLAGS } from "./scan-action-flags.js";

export const SCAN_FLAGS = {
  format: { type: "string" },
  output: { type: "string", short: "o" },
  "show-secrets": { type: "boolean" },
  config: { type: "string" },
  exclude: { type: "string", multiple: true },
  "max-file-size": { type: "string" },
  rules: { type: "string", multiple: true },
  baseline: { type: "string" },
  "no-ignore": { type: "boolean" },
  "max-archive-depth": { type: "string" },
  threads: { type: "string" },
  "exit-code": { type: "string" },
  git: { type: "boolean" },
  range: { type: "string" },
  since: { type: "string" },
  staged: { type: "boolean" },
  "pre-receive": { type: "boolean" },
  "allow-unscanned": { type: "boolean" },
  "history-scan": { type: "string" },
  ...SCAN_ACTION_FLAGS,
} as const;

/** Any of these makes a git scan (scan-git.ts). */
export const GIT_FLAGS = [
  "git",
  "range",
  "since",
  "staged",
  "pre-receive",
  "allow-unscanned",
  "history-scan",
] as const;
