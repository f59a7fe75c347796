// Small integer and byte encodings shared by the checksum validators.

/** Digit order used by GitHub, npm and Microsoft's Base62: 0-9, A-Z, a-z. */
export const BASE62_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE32_DIGITS = "abcdefghijklmnopqrstuvwxyz234567";
const BASE36_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/** An unsigned integer in base 62, most significant digit first, left-padded with `0`. */
export function base62(value: number, width: number): string {
  let out = "";
  let n = value >>> 0;
  while (n > 0) {
    out = BASE62_DIGITS[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out.padStart(width, "0");
}

/** An unsigned integer in lower-case base 36, left-padded with `0`. */
export function base36(value: number, width: number): string {
  return (value >>> 0).toString(36).padStart(width, "0");
}

/** Decodes `a-z2-7` base32 (RFC 4648 alphabet, lower case, no padding). Returns null on a foreign character. */
export function decodeBase32Lower(text: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = BASE32_DIGITS.indexOf(text[i] as string);
    if (digit < 0) return null;
    acc = ((acc << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Encodes bytes as `a-z2-7` base32; `padBits` fill the last character when the bits do not divide by 5. */
export function encodeBase32Lower(bytes: Uint8Array, padBits = 0): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const byte of bytes) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_DIGITS[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_DIGITS[((acc << (5 - bits)) | (padBits & ((1 << (5 - bits)) - 1))) & 31];
  return out;
}

/** Whether every character of `text` is a base 36 digit. */
export function isBase36(text: string): boolean {
  for (const ch of text) if (!BASE36_DIGITS.includes(ch)) return false;
  return true;
}
