import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { afterAll, describe, expect, it } from "vitest";
import { ArchiveError, isSafeEntryName, readLogArchive } from "../../src/sources/log-archive.js";
import { tempDir } from "../support/cli.js";
import { buildZip, type ZipInput } from "../support/zip.js";

const dir = tempDir();
afterAll(dir.remove);
let counter = 0;
function zipFile(inputs: ZipInput[], options?: { sharedOffset?: boolean }): string {
  const path = join(dir.path, `archive-${counter++}.zip`);
  writeFileSync(path, buildZip(inputs, options));
  return path;
}

async function readAll(path: string, limits?: Parameters<typeof readLogArchive>[1]) {
  const archive = await readLogArchive(path, limits);
  try {
    const out: Record<string, string> = {};
    for (const entry of archive.entries) out[entry.name] = await text(entry.open());
    return out;
  } finally {
    await archive.close();
  }
}

describe("reading a run's log archive", () => {
  it("reads job logs and per-step logs, stored or deflated", async () => {
    const path = zipFile([
      { name: "0_build.txt", data: "2026-11-28T00:00:00Z ##[group]Run npm ci\n" },
      { name: "build/", data: "", stored: true },
      { name: "build/1_Set up job.txt", data: "Current runner version: '2.330.0'\n".repeat(100) },
      { name: "build/2_Run npm ci.txt", data: "added 400 packages\n", stored: true },
    ]);
    expect(await readAll(path)).toEqual({
      "0_build.txt": "2026-11-28T00:00:00Z ##[group]Run npm ci\n",
      "build/1_Set up job.txt": "Current runner version: '2.330.0'\n".repeat(100),
      "build/2_Run npm ci.txt": "added 400 packages\n",
    });
  });
});

describe("hostile archives are refused with a clear reason", () => {
  it.each([
    ["../escape.txt", false],
    ["/etc/passwd", false],
    ["C:\\Windows\\x.txt", false],
    ["build/../../x", false],
    ["build/1_Run tests.txt", true],
    ["build/..hidden.txt", true],
  ])("entry name %s is safe: %s", (name, safe) => expect(isSafeEntryName(name)).toBe(safe));

  it("path traversal", async () => {
    await expect(readAll(zipFile([{ name: "../../evil.txt", data: "x" }]))).rejects.toThrow(
      /unsafe entry name "..\/..\/evil.txt"/,
    );
  });
  it("a deflate bomb (huge ratio)", async () => {
    const bomb = zipFile([{ name: "bomb.txt", data: Buffer.alloc(20 * 1024 * 1024) }]);
    await expect(readAll(bomb)).rejects.toThrow(/compression ratio/);
  });
  it("a bomb that lies about its size in the headers is stopped while inflating", async () => {
    const liar = zipFile([{ name: "liar.txt", data: Buffer.alloc(20 * 1024 * 1024), declaredSize: 1000 }]);
    await expect(readAll(liar)).rejects.toThrow(ArchiveError);
    await expect(readAll(liar)).rejects.toThrow(/inflates beyond/);
  });
  it("too many entries", async () => {
    const many = zipFile(Array.from({ length: 30 }, (_, i) => ({ name: `${i}.txt`, data: "x" })));
    await expect(
      readAll(many, { maxCompressedBytes: 1e9, maxUncompressedBytes: 1e9, maxEntries: 20, maxRatio: 200 }),
    ).rejects.toThrow(/30 entries is over the 20-entry limit/);
  });
  it("too large, compressed or in total", async () => {
    const path = zipFile([{ name: "a.txt", data: "abc".repeat(1000) }]);
    await expect(
      readAll(path, { maxCompressedBytes: 10, maxUncompressedBytes: 1e9, maxEntries: 9, maxRatio: 200 }),
    ).rejects.toThrow(/over the 10-byte limit/);
    await expect(
      readAll(path, { maxCompressedBytes: 1e9, maxUncompressedBytes: 100, maxEntries: 9, maxRatio: 200 }),
    ).rejects.toThrow(/uncompressed bytes is over/);
  });
  it("entries sharing the same bytes (overlapping-file bomb)", async () => {
    const overlap = zipFile(
      Array.from({ length: 3 }, (_, i) => ({ name: `${i}.txt`, data: "same bytes" })),
      { sharedOffset: true },
    );
    await expect(readAll(overlap)).rejects.toThrow(/entries overlap/);
  });
  it("not a zip at all", async () => {
    const path = join(dir.path, "not.zip");
    writeFileSync(path, "<html>rate limited</html>");
    await expect(readAll(path)).rejects.toThrow(/not a zip archive/);
  });
});
