// Builds the benchmark corpus on first use, under bench/.cache (never committed, never downloaded).
import { createWriteStream, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const CACHE = join(here, ".cache");
export const TYPESCRIPT = join(here, "..", "node_modules", "typescript");

/** A deterministic pseudo-random generator, so that every machine benches the same bytes. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** An API-dump-like JSON file: ids, hashes, URLs, base64 blobs and prose, one record per line. */
export async function largeJson(megabytes = 64) {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `records-${megabytes}mb.json`);
  if (existsSync(path) && statSync(path).size >= megabytes * 1024 * 1024) return path;
  const next = random(7);
  const word = (n) => Array.from({ length: n }, () => ALNUM[Math.floor(next() * 26) + 26]).join("");
  const token = (n) => Array.from({ length: n }, () => ALNUM[Math.floor(next() * ALNUM.length)]).join("");
  const out = createWriteStream(path);
  out.write("[\n");
  let written = 0;
  for (let id = 0; written < megabytes * 1024 * 1024; id++) {
    const record = {
      id,
      sha: token(40).toLowerCase(),
      url: `https://api.example.com/repos/${word(6)}/${word(8)}/commits/${token(12)}`,
      author: { name: `${word(5)} ${word(7)}`, email: `${word(6)}@example.org` },
      message: Array.from({ length: 12 }, () => word(1 + Math.floor(next() * 9))).join(" "),
      payload: Buffer.from(token(90)).toString("base64"),
    };
    const line = `${JSON.stringify(record)},\n`;
    written += line.length;
    if (!out.write(line)) await new Promise((resolve) => out.once("drain", resolve));
  }
  out.write('{"end": true}\n]\n');
  await new Promise((resolve) => out.end(resolve));
  return path;
}

/**
 * One file of `count` lines that each hold a checksum-valid token, generated here from the seeded sample
 * generator (never committed): the many-findings-per-buffer case, where per-finding work must stay per line.
 */
export async function tokenLines(count = 80_000) {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `token-lines-${count}.env`);
  if (existsSync(path)) return path;
  const { SAMPLE_FORMATS, SeededRandom } = await import("../dist/scan/samples.js");
  const rng = new SeededRandom(80_000);
  const out = createWriteStream(path);
  for (let i = 0; i < count; i++) {
    if (!out.write(`TOKEN_${i}=${SAMPLE_FORMATS["github-pat"](rng)}\n`))
      await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  return path;
}
