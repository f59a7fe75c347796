import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { runScan } from "../../src/scan/run.js";
import { runCli, tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";
import { buildZip } from "../support/zip.js";

const t = tokens(14_002);
const dir = tempDir();
afterAll(dir.remove);
let counter = 0;

/** A fresh folder holding `files` (name -> bytes); returns its path. */
function folder(files: Record<string, Buffer | string>): string {
  const root = join(dir.path, `case-${counter++}`);
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), data);
  }
  return root;
}

/** A real tar made by the system's tar from `files`, gzip'd or not. */
function tarOf(files: Record<string, string>, gzip: boolean, format = "gnu"): Buffer {
  const source = folder(files);
  const out = join(dir.path, `tar-${counter++}.tar${gzip ? ".gz" : ""}`);
  execFileSync("tar", [
    `--format=${format}`,
    gzip ? "-czf" : "-cf",
    out,
    "-C",
    source,
    ...Object.keys(files),
  ]);
  return readFileSync(out);
}

async function scan(root: string, maxArchiveDepth?: number) {
  const result = await runScan([root], {
    ruleDirs: [],
    disabledRules: [],
    allow: [],
    ignore: [],
    ignoreFiles: false,
    threads: 1,
    ...(maxArchiveDepth === undefined ? {} : { maxArchiveDepth }),
  });
  const found = result.findings.map((f) => ({
    file: f.file.slice(root.length + 1),
    line: f.line,
    secret: f.secret.reveal(),
  }));
  return { found, stats: result.stats };
}

describe("folder scans open archives", () => {
  it("finds a token in a zip, named outer.zip!inner path, at its line", async () => {
    const pat = t.adoPat();
    const root = folder({
      "dist/app.zip": buildZip([
        { name: "readme.txt", data: "nothing here\n" },
        { name: "conf/settings.ini", data: `[ado]\nuser = ci\npat = ${pat}\n` },
      ]),
    });
    const { found, stats } = await scan(root);
    expect(found).toEqual([{ file: "dist/app.zip!conf/settings.ini", line: 3, secret: pat }]);
    expect(stats.files).toBe(2);
    expect(stats.skipped).toBe(0);
  });

  it("finds a token in a tar.gz, a tar and a gzip'd file, each made by real tools", async () => {
    const [a, b, c] = [t.githubPat(), t.make("npm-token"), t.adoPat()];
    const root = folder({
      "release.tar.gz": tarOf({ "pkg/notes.md": "# notes\n", "pkg/deploy/env.sh": `export GH=${a}\n` }, true),
      "plain.tar": tarOf({ "one.txt": `token=${b}\n` }, false),
      "logs/build.log.gz": gzipSync(`step 1\nstep 2 AZURE_DEVOPS_EXT_PAT=${c}\n`),
    });
    const { found, stats } = await scan(root);
    expect(found).toEqual([
      { file: "logs/build.log.gz!build.log", line: 2, secret: c },
      { file: "plain.tar!one.txt", line: 1, secret: b },
      { file: "release.tar.gz!pkg/deploy/env.sh", line: 1, secret: a },
    ]);
    expect(stats.skipped).toBe(0);
  });

  it.each(["gnu", "posix"])(
    "reads a tar entry whose long name needs a %s long-name header",
    async (format) => {
      const secret = t.githubPat();
      const long = `${"deep/".repeat(30)}secret.txt`;
      const root = folder({ "long.tgz": tarOf({ [long]: `x=${secret}\n` }, true, format) });
      const { found } = await scan(root);
      expect(found).toEqual([{ file: `long.tgz!${long}`, line: 1, secret }]);
    },
  );

  it("opens a jar inside a zip (nested), and names the whole path", async () => {
    const secret = t.githubPat();
    const jar = buildZip([{ name: "META-INF/app.properties", data: `github.token=${secret}\n` }]);
    const root = folder({ "bundle.zip": buildZip([{ name: "lib/core.jar", data: jar }]) });
    const { found } = await scan(root);
    expect(found).toEqual([{ file: "bundle.zip!lib/core.jar!META-INF/app.properties", line: 1, secret }]);
  });

  it("counts a zip bomb entry as skipped with its reason, and still finds the other entries' tokens", async () => {
    const [first, last] = [t.adoPat(), t.githubPat()];
    const root = folder({
      "logs.zip": buildZip([
        { name: "a.txt", data: `PAT=${first}\n` },
        { name: "bomb.log", data: "INFO all good, nothing to see\n".repeat(1_000_000) },
        { name: "z.txt", data: `GH=${last}\n` },
      ]),
    });
    const { found, stats } = await scan(root);
    expect(found.map((f) => f.secret)).toEqual([first, last]);
    expect(stats.skippedBy.archiveBomb).toBe(1);
    expect(stats.notScanned).toEqual([
      expect.stringMatching(/^.*logs\.zip!bomb\.log: .*over the 200:1 limit/),
    ]);
  });

  it("counts and names an archive nested deeper than --max-archive-depth, and opens it when allowed", async () => {
    const secret = t.githubPat();
    const innermost = buildZip([{ name: "key.txt", data: `k=${secret}\n` }]);
    const middle = buildZip([{ name: "b.zip", data: innermost }]);
    const root = folder({ "outer.zip": buildZip([{ name: "a.zip", data: middle }]) });

    const shallow = await scan(root);
    expect(shallow.found).toEqual([]);
    expect(shallow.stats.skippedBy.archiveTooDeep).toBe(1);
    expect(shallow.stats.notScanned).toEqual([
      `${root}/outer.zip!a.zip!b.zip: an archive nested deeper than --max-archive-depth 2`,
    ]);

    const deep = await scan(root, 3);
    expect(deep.found).toEqual([{ file: "outer.zip!a.zip!b.zip!key.txt", line: 1, secret }]);
    expect(deep.stats.skipped).toBe(0);

    const closed = await scan(root, 0);
    expect(closed.found).toEqual([]);
    expect(closed.stats.skippedBy.binary).toBe(1);
  });

  it("scans what a truncated zip and a truncated tar.gz still hold, and counts the rest as corrupt", async () => {
    const [zipToken, tarToken] = [t.adoPat(), t.githubPat()];
    // Words in a varied order: text that deflate cannot shrink past the ratio limit.
    const words = ["alpha", "bravo", "charlie", "delta", "echo", "fox", "golf", "hotel", "india", "juliet"];
    const prose = Array.from({ length: 40_000 }, () => words[t.rng.below(words.length)]).join(" ");
    const zip = buildZip([
      { name: "first.txt", data: `PAT=${zipToken}\n` },
      { name: "second.txt", data: `${prose}\n` },
    ]);
    const tgz = tarOf({ "first.txt": `GH=${tarToken}\n`, "second.txt": `${prose}\n` }, true);
    const root = folder({
      "cut.zip": zip.subarray(0, zip.length - 200),
      "cut.tgz": tgz.subarray(0, Math.floor(tgz.length / 2)),
    });
    const { found, stats } = await scan(root);
    expect(found).toEqual([
      { file: "cut.tgz!first.txt", line: 1, secret: tarToken },
      { file: "cut.zip!first.txt", line: 1, secret: zipToken },
    ]);
    expect(stats.skippedBy.archiveCorrupt).toBe(2);
    expect(stats.notScanned?.map((note) => note.split(": ")[0]?.replace(/^.*\//, ""))).toEqual([
      "cut.tgz!second.txt",
      "cut.zip",
    ]);
  });

  it("counts a file that only claims to be an archive as corrupt, never as clean", async () => {
    const root = folder({ "fake.zip": "just text, not a zip\n", "fake.tar.gz": "not gzip either\n" });
    const { found, stats } = await scan(root);
    expect(found).toEqual([]);
    expect(stats.skippedBy.archiveCorrupt).toBe(2);
    expect(stats.files).toBe(0);
  });

  it("names what it could not open in the text summary, and takes --max-archive-depth on the command line", () => {
    const secret = t.githubPat();
    const root = folder({
      "outer.zip": buildZip([
        { name: "ok.txt", data: `k=${secret}\n` },
        { name: "inner.jar", data: buildZip([{ name: "x.txt", data: "x\n" }]) },
      ]),
    });
    const text = runCli(["scan", "--max-archive-depth", "1", root]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("outer.zip!ok.txt");
    expect(text.stdout).toMatch(
      /skipped 1: 1 archive too deep \(\S*outer\.zip!inner\.jar: an archive nested deeper than --max-archive-depth 1\)/,
    );
    expect(text.stdout).not.toContain(secret);
    expect(runCli(["scan", "--max-archive-depth", "17", root]).code).toBe(2);
  });
});
