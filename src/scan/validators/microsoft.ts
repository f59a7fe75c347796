// Microsoft's identifiable keys and Entra ID client secrets (token-formats.md §1.2 and Microsoft's
// security-utilities: IdentifiableSecrets.ValidateChecksum, IdentifiableMetadata). Implemented from the
// published algorithm: Marvin32 over the decoded key, stored little-endian in its last four bytes.
import { caskChecksumEncodings } from "./azure-devops.js";
import { marvin32 } from "./marvin32.js";

/** A Marvin32 seed is eight ASCII characters read as a big-endian 64-bit integer ("Default0", "Send0000"...). */
export function seedOf(text: string): bigint {
  return BigInt(`0x${Buffer.from(text, "latin1").toString("hex")}`);
}

/**
 * Decodes standard or URL-safe base64; null when the text mixes both alphabets or is not the canonical encoding
 * of its bytes (the unused low bits of the last character must be zero, else two texts would share one key).
 */
function decodeBase64(key: string): Buffer | null {
  const body = key.replace(/=+$/, "");
  if (/[^A-Za-z0-9+/_-]/.test(body) || (/[+/]/.test(body) && /[-_]/.test(body))) return null;
  const standard = body.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Buffer.from(standard, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === standard ? bytes : null;
}

/**
 * An identifiable key: base64 of random bytes, a 4-character signature just before the 6 characters that
 * encode the last 4 bytes, which are Marvin32(all bytes before them, seed), little-endian.
 */
export function isValidIdentifiableKey(key: string, signature: string, seeds: readonly bigint[]): boolean {
  const bytes = decodeBase64(key);
  if (!bytes || bytes.length < 24) return false;
  const unpadded = key.replace(/=+$/, "");
  if (unpadded.slice(-10, -6) !== signature) return false;
  const stored = bytes.readUInt32LE(bytes.length - 4);
  const data = bytes.subarray(0, bytes.length - 4);
  return seeds.some((seed) => marvin32(data, seed) === stored);
}

/** The key bytes an identifiable key of `byteLength` bytes needs, its checksum written in (for generators). */
export function placeIdentifiableChecksum(bytes: Uint8Array, seed: bigint): void {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.writeUInt32LE(marvin32(view.subarray(0, view.length - 4), seed), view.length - 4);
}

/**
 * A legacy CASK key (84 characters, `JQQJ` at 52-55) of any Azure service: the provider signature sits at
 * 76-79 and the checksum at 80-83, computed as for the Azure DevOps PAT.
 */
export function isValidCaskKey(key: string, signatures: readonly string[]): boolean {
  if (key.length !== 84 || key.slice(52, 56) !== "JQQJ" || !signatures.includes(key.slice(76, 80)))
    return false;
  const expected = caskChecksumEncodings(key.slice(0, 80));
  const stored = key.slice(80);
  return stored === expected.base62 || stored === expected.base64;
}

/** Entra ID client secret alphabet, in the order Microsoft's checksum encoder uses it. */
const ENTRA_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890.-_~";
const ENTRA_SEED = seedOf("AadPwd00");

/** Marvin32 of the secret minus its last 3 characters, in the Entra alphabet, first 3 of 6 digits. */
export function entraChecksum(withoutChecksum: string): string {
  let value = marvin32(Buffer.from(withoutChecksum, "latin1"), ENTRA_SEED);
  let digits = "";
  while (value > 0) {
    digits = ENTRA_ALPHABET[value % ENTRA_ALPHABET.length] + digits;
    value = Math.floor(value / ENTRA_ALPHABET.length);
  }
  return digits.padStart(6, ENTRA_ALPHABET[0]).slice(0, 3);
}

/** Current Entra ID client secrets: `8Q~` at 3-5, the last 3 characters a truncated Marvin32 checksum. */
export function isValidEntraClientSecret(secret: string): boolean {
  if (secret.length < 37 || secret.slice(3, 6) !== "8Q~") return false;
  return entraChecksum(secret.slice(0, -3)) === secret.slice(-3);
}

/** Checksum seeds per identifiable-key family (IdentifiableMetadata in security-utilities). */
export const IDENTIFIABLE_KEYS = {
  "azure-storage": { signature: "+ASt", seeds: ["Default0"] },
  "azure-cosmos-db": { signature: "ACDb", seeds: ["MastRO00", "MastRW00"] },
  "azure-service-bus": { signature: "+ASb", seeds: ["Send0000", "Listen00", "Manage00"] },
  "azure-event-hubs": { signature: "+AEh", seeds: ["Send0000", "Listen00", "Manage00"] },
  "azure-relay": { signature: "+ARm", seeds: ["Send0000", "Listen00", "Manage00"] },
  "azure-functions": { signature: "AzFu", seeds: ["Functi00", "System00", "Master00"] },
  "azure-apim": { signature: "APIM", seeds: ["Tenant00", "IoTHub00", "Gatewy00", "GitKey00"] },
  "azure-search": { signature: "AzSe", seeds: ["Query000", "PAdmin00"] },
  "azure-redis": { signature: "AzCa", seeds: ["Access00"] },
  "azure-container-registry": { signature: "+ACR", seeds: ["ACRDflt0"] },
  "azure-iot": { signature: "AIoT", seeds: ["IoTHub00", "DpsKey00", "Device00"] },
  "azure-batch": { signature: "+ABa", seeds: ["AbAcct00"] },
  "azure-ml-classic": { signature: "+AMC", seeds: ["Classic0"] },
} as const satisfies Record<string, { signature: string; seeds: readonly string[] }>;

export type IdentifiableFamily = keyof typeof IDENTIFIABLE_KEYS;

export function identifiableValidator(family: IdentifiableFamily): (key: string) => boolean {
  const { signature, seeds } = IDENTIFIABLE_KEYS[family];
  const numeric = seeds.map(seedOf);
  return (key) => isValidIdentifiableKey(key, signature, numeric);
}
