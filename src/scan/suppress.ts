// Findings known and accepted, left out before anything is reported or acted on: the fingerprints in
// `.leakwardenignore` (beside the first target) and in a --baseline report. Each mechanism's count is kept.
import { besideTargets } from "../config.js";
import { loadBaseline } from "./baseline.js";
import { FINGERPRINT_IGNORE_FILE, loadFingerprintIgnore } from "./fingerprint-ignore.js";
import type { ScanResult } from "./run.js";

export interface KeptResult extends ScanResult {
  /** How many findings each mechanism left out: `leakwardenignore`, and `baseline` when one was given. */
  suppressed: Record<string, number>;
}

export function suppressKnown(result: ScanResult, targets: readonly string[], baseline?: string): KeptResult {
  let { findings } = result;
  const suppressed: Record<string, number> = {};
  const leaveOut = (mechanism: string, fingerprints: Set<string>) => {
    const kept = findings.filter((f) => !fingerprints.has(f.fingerprint));
    suppressed[mechanism] = findings.length - kept.length;
    findings = kept;
  };
  leaveOut("leakwardenignore", loadFingerprintIgnore(besideTargets(targets, FINGERPRINT_IGNORE_FILE)));
  if (baseline) leaveOut("baseline", loadBaseline(baseline));
  return { ...result, findings, suppressed };
}
