// Synthesises tokens of every format, checksums included, from a seeded generator. Rule examples name them
// as `{{format}}` or `{{format:bad-checksum}}` so that no checksum-valid token is ever written into a file.
import { crc32 } from "node:zlib";
import {
  ADO_LEGACY_SEEDS,
  adoLegacyData,
  adoLegacyPlaceChecksum,
  caskChecksumEncodings,
} from "./validators/azure-devops.js";
import { BASE62_DIGITS, encodeBase32Lower } from "./validators/encoding.js";
import { githubChecksum } from "./validators/github.js";
import { gitlabChecksum } from "./validators/gitlab.js";

const ALNUM = BASE62_DIGITS;
const UPPER_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const URLSAFE = `${ALNUM}_-`;

/** sfc32: small, fast, and the same sequence for the same seed on every machine. */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  below(n: number): number {
    return this.next() % n;
  }

  chars(alphabet: string, length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.below(alphabet.length)];
    return out;
  }

  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.below(256));
  }

  digits(min: number, max: number): string {
    return this.chars("0123456789", min + this.below(max - min + 1));
  }
}

function githubClassic(prefix: string, bodyLength: number) {
  return (rng: SeededRandom) => {
    const body = rng.chars(ALNUM, bodyLength);
    return `${prefix}${body}${githubChecksum(body)}`;
  };
}

function adoPat(rng: SeededRandom): string {
  const year = "ABC"[rng.below(3)];
  const month = "ABCDEFGHIJKL"[rng.below(12)];
  const first80 = `${rng.chars(ALNUM, 52)}JQQJ99${year}${month}ACAAAAAAAAAAAAASAZDO`;
  return first80 + caskChecksumEncodings(first80).base62;
}

function adoLegacyPat(rng: SeededRandom): string {
  const bytes = rng.bytes(32);
  adoLegacyPlaceChecksum(bytes, (crc32(adoLegacyData(bytes)) ^ ADO_LEGACY_SEEDS.user) >>> 0);
  return encodeBase32Lower(bytes, rng.below(16));
}

function gitlabRoutable(rng: SeededRandom): string {
  const payload = `o:${rng.below(1_000_000).toString(36)}\nu:${rng.below(1_000_000).toString(36)}`;
  const raw = Buffer.concat([
    Buffer.from(rng.bytes(16)),
    Buffer.from(payload),
    Buffer.from([payload.length]),
  ]);
  const encoded = raw.toString("base64url");
  const head = `glpat-${encoded}.01.${encoded.length.toString(36).padStart(2, "0")}`;
  return head + gitlabChecksum(head);
}

function base64url(rng: SeededRandom, bytes: number): string {
  return Buffer.from(rng.bytes(bytes)).toString("base64url");
}

function privateKey(rng: SeededRandom): string {
  const body = Buffer.from(rng.bytes(1190)).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
}

export const SAMPLE_FORMATS: Readonly<Record<string, (rng: SeededRandom) => string>> = {
  "azure-devops-pat": adoPat,
  "azure-devops-pat-legacy": adoLegacyPat,
  "github-pat": githubClassic("ghp_", 30),
  "github-oauth-token": githubClassic("gho_", 30),
  "github-user-token": githubClassic("ghu_", 30),
  "github-installation-token": githubClassic("ghs_", 30),
  "github-refresh-token": githubClassic("ghr_", 70),
  "github-fine-grained-pat": (rng) => `github_pat_11${rng.chars(ALNUM, 20)}_${rng.chars(ALNUM, 59)}`,
  "github-installation-token-stateless": (rng) =>
    `ghs_${1 + rng.below(3_000_000)}_eyJ${base64url(rng, 30)}.${base64url(rng, 300)}.${base64url(rng, 64)}`,
  "npm-token": githubClassic("npm_", 30),
  "gitlab-pat": (rng) => `glpat-${rng.chars(URLSAFE, 20)}`,
  "gitlab-pat-routable": gitlabRoutable,
  "slack-bot-token": (rng) => `xoxb-${rng.digits(10, 13)}-${rng.digits(10, 13)}-${rng.chars(ALNUM, 24)}`,
  "slack-user-token": (rng) =>
    `xoxp-${rng.digits(10, 13)}-${rng.digits(10, 13)}-${rng.digits(10, 13)}-${rng.chars("0123456789abcdef", 32)}`,
  "slack-app-token": (rng) =>
    `xapp-1-A${rng.chars(UPPER_B32, 10)}-${rng.digits(12, 13)}-${rng.chars("0123456789abcdef", 64)}`,
  "aws-access-key-id": (rng) => `AKIA${rng.chars(UPPER_B32, 16)}`,
  "aws-secret-access-key": (rng) => rng.chars(`${ALNUM}+/`, 40),
  "google-api-key": (rng) => `AIza${rng.chars(URLSAFE, 35)}`,
  "openai-api-key": (rng) => `sk-proj-${rng.chars(URLSAFE, 74)}T3BlbkFJ${rng.chars(URLSAFE, 74)}`,
  "anthropic-api-key": (rng) => `sk-ant-api03-${rng.chars(URLSAFE, 93)}AA`,
  "stripe-live-key": (rng) => `sk_live_${rng.chars(ALNUM, 99)}`,
  "huggingface-token": (rng) => `hf_${rng.chars(ALNUM, 34)}`,
  "pypi-token": (rng) => `pypi-AgEIcHlwaS5vcmc${base64url(rng, 120)}`,
  "private-key": privateKey,
};

/** One character changed inside the checksummed part, so that the checksum no longer holds. */
export function corrupt(token: string, rng: SeededRandom): string {
  const at = 12 + rng.below(Math.max(1, Math.min(token.length - 24, 30)));
  const old = token[at] as string;
  const alphabet =
    /[a-z2-7]/.test(old) && /^[a-z2-7]+$/.test(token) ? "abcdefghijklmnopqrstuvwxyz234567" : ALNUM;
  let replacement = old;
  while (replacement === old) replacement = alphabet[rng.below(alphabet.length)] as string;
  return token.slice(0, at) + replacement + token.slice(at + 1);
}

const PLACEHOLDER = /\{\{([a-z0-9-]+)(?::(bad-checksum))?\}\}/g;

export class UnknownSampleError extends Error {}

/** Replaces `{{format}}` and `{{format:bad-checksum}}` with generated tokens; returns the text and the tokens. */
export function fillSamples(text: string, rng: SeededRandom): { text: string; tokens: string[] } {
  const tokens: string[] = [];
  const filled = text.replace(PLACEHOLDER, (_all, name: string, modifier?: string) => {
    const make = SAMPLE_FORMATS[name];
    if (!make) {
      throw new UnknownSampleError(
        `unknown sample "{{${name}}}"; known: ${Object.keys(SAMPLE_FORMATS).join(", ")}`,
      );
    }
    const token = modifier ? corrupt(make(rng), rng) : make(rng);
    tokens.push(token);
    return token;
  });
  return { text: filled, tokens };
}
