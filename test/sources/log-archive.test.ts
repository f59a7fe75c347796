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

async function readWithNotes(path: string, limits?: Parameters<typeof readLogArchive>[1]) {
  const archive = await readLogArchive(path, limits);
  try {
    const out: Record<string, string> = {};
    for (const entry of archive.entries) out[entry.name] = await text(entry.open());
    return { read: out, notes: archive.notes.map((note) => note.text) };
  } finally {
    await archive.close();
  }
}

const LIMITS = { maxCompressedBytes: 1e9, maxUncompressedBytes: 1e9, maxEntries: 20, maxRatio: 200 };

describe("one odd entry costs only itself: the others are read, and a note says what was left out", () => {
  it.each([
    ["../escape.txt", false],
    ["/etc/passwd", false],
    ["C:\\Windows\\x.txt", false],
    ["build/../../x", false],
    ["build/1_Run tests.txt", true],
    ["build/..hidden.txt", true],
  ])("entry name %s is safe: %s", (name, safe) => expect(isSafeEntryName(name)).toBe(safe));

  it("path traversal: that entry is skipped", async () => {
    const path = zipFile([
      { name: "../../evil.txt", data: "x" },
      { name: "0_build.txt", data: "ok\n" },
    ]);
    expect(await readWithNotes(path)).toEqual({
      read: { "0_build.txt": "ok\n" },
      notes: ['entry "../../evil.txt" was skipped: its name is unsafe'],
    });
  });

  it("a deflate bomb (huge ratio): read up to what the ratio limit allows", async () => {
    const bomb = zipFile([
      { name: "bomb.txt", data: Buffer.alloc(20 * 1024 * 1024, "y") },
      { name: "after.txt", data: "still read\n" },
    ]);
    const { read, notes } = await readWithNotes(bomb);
    expect(read["after.txt"]).toBe("still read\n");
    expect(read["bomb.txt"]?.length).toBeGreaterThan(1000);
    expect(read["bomb.txt"]?.length).toBeLessThan(20 * 1024 * 1024);
    expect(notes).toEqual([
      expect.stringMatching(
        /^entry "bomb.txt" was scanned only to its first \d+ bytes: it compresses \d+:1, over the 200:1 limit$/,
      ),
    ]);
  });

  it("a bomb that lies about its size in the headers is stopped while inflating", async () => {
    const liar = zipFile([{ name: "liar.txt", data: Buffer.alloc(20 * 1024 * 1024), declaredSize: 1000 }]);
    await expect(readAll(liar)).rejects.toThrow(ArchiveError);
    await expect(readAll(liar)).rejects.toThrow(/"liar.txt" inflates beyond its declared size/);
  });

  it("too many entries: the first ones are read", async () => {
    const many = zipFile(Array.from({ length: 30 }, (_, i) => ({ name: `${i}.txt`, data: "x" })));
    const { read, notes } = await readWithNotes(many, LIMITS);
    expect(Object.keys(read)).toHaveLength(20);
    expect(notes).toEqual(["10 entries past the 20-entry limit were not scanned"]);
  });

  it("too large: refused whole when compressed, entry by entry past the total", async () => {
    const path = zipFile([
      { name: "a.txt", data: "abc".repeat(30) },
      { name: "b.txt", data: "abc".repeat(1000) },
    ]);
    await expect(readAll(path, { ...LIMITS, maxCompressedBytes: 10 })).rejects.toThrow(
      /over the 10-byte limit/,
    );
    expect(await readWithNotes(path, { ...LIMITS, maxUncompressedBytes: 100 })).toEqual({
      read: { "a.txt": "abc".repeat(30) },
      notes: ["1 entries were not scanned: together the entries pass the 100-byte limit"],
    });
  });

  it("entries sharing the same bytes (overlapping-file bomb): only the first is read", async () => {
    const overlap = zipFile(
      Array.from({ length: 3 }, (_, i) => ({ name: `${i}.txt`, data: "same bytes" })),
      { sharedOffset: true },
    );
    const { read, notes } = await readWithNotes(overlap);
    expect(read).toEqual({ "0.txt": "same bytes" });
    expect(notes).toEqual([
      'entry "1.txt" was skipped: it shares its bytes with another entry',
      'entry "2.txt" was skipped: it shares its bytes with another entry',
    ]);
  });

  it("a truncated archive: the entries before the cut are recovered from their own headers", async () => {
    const whole = buildZip([
      { name: "0_build.txt", data: "first\n" },
      { name: "1_test.txt", data: "second\n" },
      { name: "2_deploy.txt", data: "third\n".repeat(1000) },
    ]);
    const path = join(dir.path, "truncated.zip");
    writeFileSync(path, whole.subarray(0, whole.indexOf("2_deploy.txt") + 20));
    const { read, notes } = await readWithNotes(path);
    expect(read).toEqual({ "0_build.txt": "first\n", "1_test.txt": "second\n" });
    expect(notes).toEqual([
      expect.stringMatching(/truncated or its directory is damaged: 2 entries were recovered/),
    ]);
  });

  it("not a zip at all is refused", async () => {
    const path = join(dir.path, "not.zip");
    writeFileSync(path, "<html>rate limited</html>");
    await expect(readAll(path)).rejects.toThrow(/not a zip archive/);
  });
});
