// The flags of what `scan` does after scanning (scan-actions.ts). Kept apart so that a plain scan never loads
// the database, the registry and the providers: it only pays for them when a flag asks.
import type { ScanResult } from "../scan/run.js";
import type { Io } from "./command.js";
import type { ScanAnnotations } from "./scan-actions.js";

export const SCAN_ACTION_FLAGS = {
  record: { type: "boolean" },
  registry: { type: "boolean" },
  revoke: { type: "boolean" },
  "dry-run": { type: "boolean" },
  validate: { type: "boolean" },
  policy: { type: "string" },
  db: { type: "string" },
  wait: { type: "string" },
} as const;

export const SCAN_ACTION_HELP = `Record, match and revoke (see 'leakwarden registry --help')
  --record        store the findings in the database; a re-scan updates them
  --registry      mark findings whose token is in the registry
  --revoke        record, match, and revoke per --policy through the providers' APIs
  --dry-run       show what --revoke would do; writes and calls nothing
  --validate      ask each token's own issuer, read-only, whether it still works
                  (live, inactive or unknown; see the README for what is sent where);
                  verdicts are kept by token hash in the database for
                  LEAKWARDEN_VALIDATION_TTL_SECONDS (default 3600)
  --policy P      registered (default): revoke registry matches only; live: also
                  unregistered tokens revocable by value (GitHub, GitLab, Slack)
                  that a live check says work (implies --validate); all: every such
                  token; off: report only
  --wait SECONDS  how long --revoke waits for retries (default: 30); later ones
                  stay queued for 'leakwarden revoke --pending'
  --db FILE       the database (default: $LEAKWARDEN_DB, else .leakwarden/leakwarden.db)`;

type ActionValues = {
  [K in keyof typeof SCAN_ACTION_FLAGS]?: (typeof SCAN_ACTION_FLAGS)[K]["type"] extends "boolean"
    ? boolean
    : string;
};

/** scan-actions.ts's planScanActions, loaded only when one of its flags is given. */
export async function planScanActionsIfAsked(
  values: ActionValues,
  settings: { ruleDirs: string[]; disabledRules: string[] },
  io: Io,
  targets: readonly string[] = [],
): Promise<((result: ScanResult) => Promise<ScanAnnotations>) | undefined> {
  if (
    !Object.keys(SCAN_ACTION_FLAGS).some(
      (flag) => values[flag as keyof typeof SCAN_ACTION_FLAGS] !== undefined,
    )
  )
    return undefined;
  const { planScanActions } = await import("./scan-actions.js");
  return planScanActions(values, settings, io, targets);
}
