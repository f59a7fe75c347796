// Baselines: an earlier JSON report whose findings are known and accepted, matched by fingerprint.

import { readFileSync } from "node:fs";
import { UserError } from "../errors.js";

export class BaselineError extends UserError {}

export function loadBaseline(path: string): Set<string> {
  let report: unknown;
  try {
    report = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : "not a JSON report";
    throw new BaselineError(
      `cannot use baseline "${path}": ${reason}; create one with 'leakwarden scan --format json --output ${path}'`,
    );
  }
  const findings = (report as { findings?: unknown })?.findings;
  if (!Array.isArray(findings))
    throw new BaselineError(`baseline "${path}" has no "findings" list; is it a leakwarden JSON report?`);
  return new Set(
    findings
      .map((f) => (f as { fingerprint?: unknown }).fingerprint)
      .filter((f): f is string => typeof f === "string"),
  );
}
