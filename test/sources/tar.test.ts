import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ReadInto } from "../../src/sources/chunks.js";
import { ArchiveError, DEFAULT_ARCHIVE_LIMITS } from "../../src/sources/log-archive.js";
import { tarEntries } from "../../src/sources/tar.js";
import { tempDir } from "../support/cli.js";

const dir = tempDir();
afterAll(dir.remove);
let counter = 0;

/** A tar made by the system's tar, run in `cwd` on `names` (`-P` keeps names such as `../x` as they are). */
function tarOf(files: Record<string, string>, cwd: string, names: string[]): Buffer {
  const root = join(dir.path, `case-${counter++}`);
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), data);
  }
  const out = join(dir.path, `out-${counter++}.tar`);
  execFileSync("tar", ["-cPf", out, ...names], { cwd: join(root, cwd) });
  return readFileSync(out);
}

/** Reads a buffer in small, uneven pieces, as a decompressing stream would hand it over. */
function reader(bytes: Buffer): ReadInto {
  let at = 0;
  return async (target, offset, length) => {
    const n = bytes.copy(target, offset, at, at + Math.min(length, 700));
    at += n;
    return n;
  };
}

async function readAll(bytes: Buffer, limits = DEFAULT_ARCHIVE_LIMITS) {
  const seen: string[] = [];
  for await (const item of tarEntries(reader(bytes), limits)) {
    if (item.kind === "skipped") {
      seen.push(`${item.problem}: ${item.text}`);
      continue;
    }
    const body = Buffer.alloc(item.size);
    let filled = 0;
    for (let n = 1; n > 0 && filled < item.size; filled += n)
      n = await item.read(body, filled, item.size - filled);
    seen.push(`${item.name}=${body.toString().trim()}`);
  }
  return seen;
}

describe("reading a tar", () => {
  it("skips an entry whose name leaves the archive, and reads the others", async () => {
    const tar = tarOf({ "top.txt": "up", "sub/x.txt": "in", "sub/y.txt": "also" }, "sub", [
      "../top.txt",
      "x.txt",
      "y.txt",
    ]);
    expect(await readAll(tar)).toEqual([
      'unsafe: entry "../top.txt" was skipped: its name is unsafe',
      "x.txt=in",
      "y.txt=also",
    ]);
  });

  it("stops at the entry limit with one note, whatever follows", async () => {
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.txt`, `${i}`]));
    const tar = tarOf(files, ".", Object.keys(files));
    expect(await readAll(tar, { ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 2 })).toEqual([
      "f0.txt=0",
      "f1.txt=1",
      'bomb: entry "f2.txt" and any after it were not scanned: past the 2-entry limit',
    ]);
  });

  it("refuses a damaged header, and a tar cut inside an entry", async () => {
    const tar = tarOf({ "a.txt": "a".repeat(3000) }, ".", ["a.txt"]);
    const damaged = Buffer.from(tar);
    damaged[10] = 0x41;
    await expect(readAll(damaged)).rejects.toThrow(/header checksum is wrong/);
    await expect(readAll(tar.subarray(0, 1500))).rejects.toThrow(ArchiveError);
  });
});
