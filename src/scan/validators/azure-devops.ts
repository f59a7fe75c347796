// Azure DevOps PAT checksums (token-formats.md §1.2).
import { crc32 } from "node:zlib";
import { base62, decodeBase32Lower } from "./encoding.js";
import { marvin32 } from "./marvin32.js";

export const ADO_LEGACY_SEEDS = { user: 0xe0b9692d, application: 0x1019f92e } as const;

/** Byte positions of the legacy checksum, least significant first. */
const LEGACY_CHECKSUM_BYTES = [22, 8, 7, 2] as const;
const LEGACY_DATA_BYTES = [
  0, 1, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31,
];

/** The 28 checksummed bytes of a decoded legacy PAT. */
export function adoLegacyData(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(LEGACY_DATA_BYTES, (i) => bytes[i] as number);
}

export function adoLegacyStoredChecksum(bytes: Uint8Array): number {
  let value = 0;
  LEGACY_CHECKSUM_BYTES.forEach((at, i) => {
    value |= (bytes[at] as number) << (8 * i);
  });
  return value >>> 0;
}

/** Writes `checksum` into the legacy PAT byte positions (used by generators). */
export function adoLegacyPlaceChecksum(bytes: Uint8Array, checksum: number): void {
  LEGACY_CHECKSUM_BYTES.forEach((at, i) => {
    bytes[at] = (checksum >>> (8 * i)) & 0xff;
  });
}

/** 52-character base32 PAT (before July 2024): CRC-32 of 28 bytes XOR the user or application seed. */
export function isValidAdoLegacyPat(token: string): boolean {
  if (token.length !== 52) return false;
  const decoded = decodeBase32Lower(token);
  if (!decoded) return false;
  const bytes = decoded.subarray(0, 32);
  const actual = crc32(adoLegacyData(bytes));
  const stored = adoLegacyStoredChecksum(bytes);
  return (
    (actual ^ ADO_LEGACY_SEEDS.user) >>> 0 === stored ||
    (actual ^ ADO_LEGACY_SEEDS.application) >>> 0 === stored
  );
}

/** `Default0` in ASCII, read as a little-endian 64-bit integer. */
export const CASK_MARVIN_SEED = 0x44656661756c7430n;

/** The checksum characters (offsets 80-83) a CASK key's first 80 characters call for, in both encodings. */
export function caskChecksumEncodings(first80: string): { base62: string; base64: string } {
  const bytes = Buffer.from(first80, "base64");
  const hash = marvin32(bytes, CASK_MARVIN_SEED);
  const le = Buffer.alloc(4);
  le.writeUInt32LE(hash);
  const asBigEndian = le.readUInt32BE(0);
  let leadingZeros = 0;
  while (leadingZeros < 4 && le[leadingZeros] === 0) leadingZeros++;
  const digits = asBigEndian === 0 ? "" : base62(asBigEndian, 0);
  return {
    base62: ("0".repeat(leadingZeros) + digits).padEnd(6, "0").slice(0, 4),
    base64: le.subarray(0, 3).toString("base64"),
  };
}

/** 84-character PAT (from July 2024): a Microsoft CASK key with `AZDO` at 76-79 and a Marvin32 checksum at 80-83. */
export function isValidAdoPat(token: string): boolean {
  if (token.length !== 84 || token.slice(76, 80) !== "AZDO") return false;
  const stored = token.slice(80);
  const expected = caskChecksumEncodings(token.slice(0, 80));
  return stored === expected.base62 || stored === expected.base64;
}
