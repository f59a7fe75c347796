// GitHub and npm token checksum (token-formats.md §2.2): CRC-32 of the body, 6 base62 characters.
import { crc32 } from "node:zlib";
import { base62 } from "./encoding.js";

const PREFIX_LENGTH = 4; // ghp_, gho_, ghu_, ghs_, ghr_, npm_: the prefix is not checksummed

export function githubChecksum(body: string): string {
  return base62(crc32(body), 6);
}

export function isValidGithubClassicToken(token: string): boolean {
  if (token.length < PREFIX_LENGTH + 7) return false;
  const body = token.slice(PREFIX_LENGTH, -6);
  return githubChecksum(body) === token.slice(-6);
}
