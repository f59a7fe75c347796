// Tokens that end in the CRC-32 of everything before the checksum, written as 8 hexadecimal digits.
import { crc32 } from "node:zlib";

export function crc32Hex(text: string): string {
  return (crc32(text) >>> 0).toString(16).padStart(8, "0");
}

/**
 * Atlassian API tokens (`ATATT...=XXXXXXXX`) and Bitbucket's `ATCTT`/`ATBB`-era tokens of the same family: the
 * last 8 characters are the CRC-32 of everything before them (the `=` included), upper-case hex. Verified
 * against tokens their owners published.
 */
export function isValidAtlassianToken(token: string): boolean {
  if (token.length < 20) return false;
  return crc32Hex(token.slice(0, -8)).toUpperCase() === token.slice(-8);
}
