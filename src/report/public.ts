// The one place a finding is turned into data for the outside world.
import type { Finding, PublicFinding } from "../scan/types.js";

export interface PublicOptions {
  /** Copy the plaintext into the output: only ever on the user's explicit --show-secrets. */
  showSecrets?: boolean;
}

export function toPublic(finding: Finding, options: PublicOptions = {}): PublicFinding & { secret?: string } {
  const { secret, ...rest } = finding;
  return options.showSecrets ? { ...rest, secret: secret.reveal() } : rest;
}
