// Redacted previews and fingerprints: the two ways a secret may be referred to in the open.
import { createHash } from "node:crypto";

const ELLIPSIS = "…";
/** Fewer unknown characters than this and the last four would give away too much. */
const MIN_HIDDEN_FOR_SUFFIX = 12;

/** A PEM header names the key type and is not secret: it makes a better preview than any prefix. */
const PEM_HEADER = /^-----BEGIN [A-Z0-9 ]{1,40}-----/;

/** The rule's prefix, an ellipsis, and at most the last 4 characters. */
export function redact(secret: string, prefix = ""): string {
  const header = PEM_HEADER.exec(secret);
  if (header) return `${header[0]}…`;
  const shown = prefix && secret.startsWith(prefix) ? prefix : "";
  const rest = secret.length - shown.length;
  const suffix = rest - 4 >= MIN_HIDDEN_FOR_SUFFIX ? secret.slice(-4) : "";
  return `${shown}${ELLIPSIS}${suffix}`;
}

/** Stable across line moves: rule, secret and path, never the line number. */
export function fingerprint(ruleId: string, secretHash: string, path: string): string {
  return createHash("sha256").update(`${ruleId}\n${secretHash}\n${path}`).digest("hex").slice(0, 32);
}
