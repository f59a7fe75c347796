// GitLab routable token checksum (token-formats.md §3): CRC-32 of everything before it, base 36, 7 characters.
import { crc32 } from "node:zlib";
import { base36, isBase36 } from "./encoding.js";

const CRC_LENGTH = 7;

export function gitlabChecksum(withoutCrc: string): string {
  return base36(crc32(withoutCrc), CRC_LENGTH);
}

/**
 * Routable GitLab tokens (`glpat-`, runner `glrt-`, and the other `gl...-` prefixes that share the generator):
 * `<prefix><base64url>.<version>.<length><crc>` (v1) or `<prefix><base64url>.<length><crc>` (v0),
 * where length is the base64 part's size in 2 base36 characters and crc is 7 base36 characters.
 * The length must agree too, so that a truncated copy does not pass.
 */
export function isValidGitlabRoutableToken(token: string): boolean {
  const match = /^gl[a-z]{2,8}-(?:t\d_)?([0-9A-Za-z_-]+)\.(?:[0-9a-z]{2}\.)?([0-9a-z]{2})([0-9a-z]{7})$/.exec(
    token,
  );
  if (!match) return false;
  const [, payload, length, crc] = match as unknown as [string, string, string, string];
  if (!isBase36(length) || Number.parseInt(length, 36) !== payload.length) return false;
  return gitlabChecksum(token.slice(0, -CRC_LENGTH)) === crc;
}
