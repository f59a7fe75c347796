// What kind of bytes a source holds, decided from its first bytes as git decides: text, or binary.

/** Git's rule: a NUL byte in the first 8000 bytes makes content binary. */
export const BINARY_PROBE = 8000;

export function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, BINARY_PROBE).includes(0);
}
