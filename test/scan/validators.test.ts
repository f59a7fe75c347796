import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  caskChecksumEncodings,
  isValidAdoLegacyPat,
  isValidAdoPat,
} from "../../src/scan/validators/azure-devops.js";
import { base36, base62, decodeBase32Lower, encodeBase32Lower } from "../../src/scan/validators/encoding.js";
import { githubChecksum, isValidGithubClassicToken } from "../../src/scan/validators/github.js";
import { isValidGitlabRoutableToken } from "../../src/scan/validators/gitlab.js";
import { VALIDATORS } from "../../src/scan/validators/index.js";
import { marvinState } from "../../src/scan/validators/marvin32.js";
import { tokens } from "../support/tokens.js";

const SEEDS = Array.from({ length: 25 }, (_, i) => 1000 + i);

describe("Marvin32", () => {
  // Published Marvin test vectors (the 64-bit state p1:p0), from Microsoft's reference tests.
  const vectors: [bigint, Uint8Array, bigint][] = [
    [0xd53cd9cecd0893b7n, new TextEncoder().encode("abc"), 0x22c74339492769bfn],
    [0xddddeeeeffff000n, new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz"), 0xa128eb7e7260aca2n],
    [0x004fb61a001bdbccn, new Uint8Array([]), 0x30ed35c100cd3c7dn],
    [0x004fb61a001bdbccn, new Uint8Array([175]), 0x48e73fc77d75ddc1n],
    [0x004fb61a001bdbccn, new Uint8Array([231, 15]), 0xb5f6e1fc485dbff8n],
    [0x004fb61a001bdbccn, new Uint8Array([55, 244, 149]), 0xf0b07c789b8cf7e8n],
    [0x004fb61a001bdbccn, new Uint8Array([171, 66, 126, 168, 209, 15, 199]), 0xe11847e4f0678c41n],
    [0x804fb61a801bdbccn, new Uint8Array([0, 255, 0, 255, 0, 255, 0]), 0x71876f2efb1b0ee8n],
  ];
  it.each(vectors)("seed %s matches the reference", (seed, data, expected) => {
    const [p0, p1] = marvinState(data, seed);
    expect((BigInt(p1) << 32n) | BigInt(p0)).toBe(expected);
  });
});

describe("encodings", () => {
  it("base62 pads and orders digits 0-9A-Za-z", () => {
    expect(base62(0, 6)).toBe("000000");
    expect(base62(61, 6)).toBe("00000z");
    expect(base62(62, 6)).toBe("000010");
    expect(base62(0xffffffff, 6)).toBe("4gfFC3");
  });
  it("base36 is lower case", () => expect(base36(35 * 36 + 10, 7)).toBe("00000za"));
  it("base32 round-trips 32 bytes through 52 characters", () => {
    const { rng } = tokens(7);
    for (let i = 0; i < 50; i++) {
      const bytes = rng.bytes(32);
      const text = encodeBase32Lower(bytes, rng.below(16));
      expect(text).toMatch(/^[a-z2-7]{52}$/);
      expect(Array.from(decodeBase32Lower(text)?.subarray(0, 32) ?? [])).toEqual(Array.from(bytes));
    }
  });
  it("base32 refuses foreign characters", () => expect(decodeBase32Lower("abc1")).toBeNull());
});

describe.each(SEEDS)("generated tokens (seed %i)", (seed) => {
  const t = tokens(seed);
  it("Azure DevOps 84-character PAT: valid, then one character changed", () => {
    const pat = t.adoPat();
    expect(pat).toHaveLength(84);
    expect(pat.slice(76, 80)).toBe("AZDO");
    expect(isValidAdoPat(pat)).toBe(true);
    expect(isValidAdoPat(t.corrupt(pat))).toBe(false);
  });
  it("Azure DevOps legacy 52-character PAT: valid, then one character changed", () => {
    const pat = t.adoLegacyPat();
    expect(pat).toMatch(/^[a-z2-7]{52}$/);
    expect(isValidAdoLegacyPat(pat)).toBe(true);
    expect(isValidAdoLegacyPat(t.corrupt(pat))).toBe(false);
  });
  it.each([
    "github-pat",
    "github-oauth-token",
    "github-user-token",
    "github-installation-token",
    "github-refresh-token",
    "npm-token",
  ])("%s: CRC-32 checksum holds, and breaks on a changed character", (format) => {
    const token = t.make(format);
    expect(isValidGithubClassicToken(token)).toBe(true);
    expect(isValidGithubClassicToken(t.corrupt(token))).toBe(false);
  });
  it("GitLab routable token: CRC-32 base36 holds, and breaks on a changed character", () => {
    const token = t.make("gitlab-pat-routable");
    expect(isValidGitlabRoutableToken(token)).toBe(true);
    expect(isValidGitlabRoutableToken(t.corrupt(token))).toBe(false);
  });
});

describe("checksum details from token-formats.md", () => {
  it("GitHub: the prefix is not checksummed", () => {
    const token = tokens(3).githubPat();
    const asOauth = `gho_${token.slice(4)}`;
    expect(isValidGithubClassicToken(asOauth)).toBe(true);
    expect(githubChecksum(token.slice(4, -6))).toBe(base62(crc32(token.slice(4, -6)), 6));
  });
  it("Azure DevOps legacy: the application seed is accepted too", () => {
    const { rng } = tokens(11);
    const bytes = rng.bytes(32);
    const data = Uint8Array.from(
      [0, 1, 3, 4, 5, 6, ...Array.from({ length: 13 }, (_, i) => 9 + i), 23, 24, 25, 26, 27, 28, 29, 30, 31],
      (i) => bytes[i] as number,
    );
    const checksum = (crc32(data) ^ 0x1019f92e) >>> 0;
    [22, 8, 7, 2].forEach((at, i) => {
      bytes[at] = (checksum >>> (8 * i)) & 0xff;
    });
    expect(isValidAdoLegacyPat(encodeBase32Lower(bytes))).toBe(true);
  });
  it("Azure DevOps 84: the older base64 checksum encoding is accepted", () => {
    const pat = tokens(5).adoPat();
    const older = pat.slice(0, 80) + caskChecksumEncodings(pat.slice(0, 80)).base64;
    expect(isValidAdoPat(older)).toBe(true);
  });
  it("GitLab: a token whose length field disagrees fails", () => {
    const token = tokens(9).make("gitlab-pat-routable");
    const shorter = token.replace(/^glpat-./, "glpat-");
    expect(isValidGitlabRoutableToken(shorter)).toBe(false);
  });
});

describe("documentation examples fail their checksum", () => {
  it.each([
    ["github-crc32", "gho_16C7e42F292c6912E7710c838347Ae178B4a"],
    ["github-crc32", "ghp_XIxB7KMNdAr3zqWtQqhE94qglHqOzn1D1stg"],
    ["github-crc32", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    ["npm-crc32", "npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    ["azure-devops-pat-legacy", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"],
    ["azure-devops-pat", `${"A".repeat(76)}AZDOAAAA`],
    ["gitlab-routable-crc32", "glpat-xxxxxxxxxxxxxxxxxxxxxxxxxxx.01.0r0000000"],
  ])("%s refuses %s", (name, value) => {
    expect(VALIDATORS[name]?.(value)).toBe(false);
  });
});
