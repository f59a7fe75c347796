import type { Secret } from "./secret.js";

export type Confidence = "high" | "medium";
export type Severity = "critical" | "high" | "medium" | "low";

/**
 * How a secret was found: `plain`, or the decoders it came through, outermost first and joined by `>`
 * (`k8s-secret-base64`, `percent-encoded>base64-basic-auth`).
 */
export type Encoding = string;

/** Where a finding came from in a git history; absent for files and stdin. */
export interface GitOrigin {
  commit: string;
  author: string;
  date: string;
  /** True on the earliest commit that added this fingerprint in what was scanned: where it leaked. */
  introduced?: boolean;
}

/** What a scan reports. Everything here is safe to print, store and send: the secret is behind `secret`. */
export interface Finding extends Partial<GitOrigin> {
  ruleId: string;
  provider: string;
  description: string;
  severity: Severity;
  confidence: Confidence;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  encoding: Encoding;
  redacted: string;
  secretHash: string;
  fingerprint: string;
  /** Never serialised (see Secret); `--show-secrets` copies it out explicitly. */
  secret: Secret;
}

export type PublicFinding = Omit<Finding, "secret">;
