// cat-file over a long run of objects, through temporary files: answers in the order asked however many
// cat-files it takes, none left on disk, and a cat-file that fails stops everything after it.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GitRepository } from "../../src/sources/git.js";
import { CatFileParser } from "../../src/sources/git-blobs.js";
import { ObjectReader } from "../../src/sources/object-reader.js";
import { tempDir } from "../support/cli.js";
import { testGitEnv } from "../support/git.js";

const tmp = tempDir();
const home = join(tmp.path, "home");
const dir = join(tmp.path, "repo");
const files = join(tmp.path, "files");
const contents = Array.from({ length: 40 }, (_, i) => `blob ${i}\n${"x".repeat(1000 + 97 * i)}\n`);
let names: string[] = [];
const savedTmpdir = process.env.TMPDIR;

/** Writes a loose blob; its name. */
function hashObject(repo: string, content: string): string {
  const file = join(files, `${Math.random()}`);
  writeFileSync(file, content);
  const out = spawnSync("git", ["-C", repo, "hash-object", "-w", file], { env: testGitEnv(home) });
  return out.stdout.toString().trim();
}

/** Writes a blob into a pack of its own and corrupts its data there: cat-file starts its answer, then dies. */
function packCorrupt(repo: string, content: string): string {
  const name = hashObject(repo, content);
  const packed = spawnSync("git", ["-C", repo, "pack-objects", "-q", "objects/pack/pack"], {
    env: testGitEnv(home),
    input: `${name}\n`,
  });
  const pack = join(repo, "objects", "pack", `pack-${packed.stdout.toString().trim()}.pack`);
  rmSync(join(repo, "objects", name.slice(0, 2), name.slice(2)));
  const bytes = readFileSync(pack);
  for (let i = 40; i < 60; i++) bytes[i] = (bytes[i] as number) ^ 0xff;
  chmodSync(pack, 0o644);
  writeFileSync(pack, bytes);
  return name;
}

beforeAll(() => {
  mkdirSync(files, { recursive: true });
  spawnSync("git", ["init", "-q", "--bare", dir], { env: testGitEnv(home) });
  names = contents.map((content) => hashObject(dir, content));
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});
afterAll(() => tmp.remove());

/** Reads `asks` (in batches of five) through an ObjectReader; the answers' contents, and the first failure. */
async function readAll(repoDir: string, asks: string[], segmentBytes: number) {
  const answers: string[] = [];
  const raw: Buffer[] = [];
  let current: Buffer[] = [];
  const parser = new CatFileParser({
    start: () => {
      current = [];
    },
    data: (bytes) => current.push(Buffer.from(bytes)),
    end: () => answers.push(Buffer.concat(current).toString()),
    missing: () => answers.push("<missing>"),
  });
  const failures: unknown[] = [];
  const repo = GitRepository.prepare(repoDir);
  const reader = new ObjectReader(
    repo,
    (bytes) => {
      raw.push(Buffer.from(bytes));
      parser.write(bytes);
    },
    (error) => failures.push(error),
    (command, output) => repo.failure(command, output),
    undefined,
    segmentBytes,
  );
  for (let i = 0; i < asks.length; i += 5) {
    reader.read(asks.slice(i, i + 5));
    await new Promise((resolve) => setTimeout(resolve, 5)); // answers come in while names still go out
  }
  const ended = await reader.end().then(
    () => undefined,
    (error: Error) => error,
  );
  reader.close();
  return { answers, failures, ended, segments: reader.segmentCount, raw: Buffer.concat(raw).toString() };
}

describe("an object reader", () => {
  it("answers in the order asked across several cat-files, leaving no file behind", async () => {
    const folder = join(tmp.path, "tmp-ordered");
    mkdirSync(folder);
    process.env.TMPDIR = folder;
    const asks = [...names, names[3] as string, "0".repeat(40), ...names.slice(0, 10)];
    const { answers, failures, ended, segments } = await readAll(dir, asks, 8 * 1024);
    expect(ended).toBeUndefined();
    expect(failures).toEqual([]);
    expect(answers).toEqual([...contents, contents[3], "<missing>", ...contents.slice(0, 10)]);
    expect(segments).toBeGreaterThan(1); // several cat-files (how many depends on how fast answers came in)
    expect(readdirSync(folder)).toEqual([]);
  });

  it("reads through a pipe where no temporary file can be made", async () => {
    process.env.TMPDIR = join(tmp.path, "no-such-folder");
    const { answers, ended, segments } = await readAll(dir, names, 8 * 1024);
    expect(ended).toBeUndefined();
    expect(answers).toEqual(contents);
    expect(segments).toBeGreaterThan(1); // several cat-files (how many depends on how fast answers came in)
  });

  it("through a pipe, keeps what a cat-file wrote before its turn came, even once it has exited", async () => {
    process.env.TMPDIR = join(tmp.path, "no-such-folder");
    let turn = () => {};
    const after = new Promise<void>((resolve) => {
      turn = resolve;
    });
    const chunks: Buffer[] = [];
    const reading = GitRepository.prepare(dir).startReading(
      ["cat-file", "--batch"],
      (bytes) => chunks.push(Buffer.from(bytes)),
      undefined,
      after,
    );
    reading.child.stdin.end(`${names.slice(0, 3).join("\n")}\n`);
    // The previous cat-file is still being handed over when this one exits: Node must not drop its output.
    await new Promise((resolve) => reading.child.once("exit", resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    turn();
    await reading.ended;
    const text = Buffer.concat(chunks).toString();
    for (const content of contents.slice(0, 3)) expect(text).toContain(content);
  });

  it("stops at a cat-file that fails: its error, and nothing handed over from the cat-files after it", async () => {
    const broken = join(tmp.path, "broken");
    spawnSync("git", ["init", "-q", "--bare", broken], { env: testGitEnv(home) });
    const good = contents.slice(0, 6).map((content) => hashObject(broken, content));
    const corrupt = packCorrupt(broken, `${"will not inflate ".repeat(500)}\n`);
    const late = hashObject(broken, "asked after the failure\n");
    // One cat-file per read of five: the corrupt object is in the first, which git leaves half answered.
    const asks = [...good.slice(0, 3), corrupt, ...good.slice(3), late];
    const { answers, failures, ended, raw } = await readAll(broken, asks, 1);
    expect(ended).toBeInstanceOf(Error);
    expect(String(ended)).toMatch(/cat-file/);
    expect(failures[0]).toBe(ended);
    expect(answers).toEqual(contents.slice(0, 3));
    expect(raw).toContain(`${corrupt} blob`);
    expect(raw).not.toContain("asked after the failure");
    expect(raw).not.toContain(contents[3]);
  });

  // A full temporary folder, made as a 64 KB tmpfs: only root can mount one.
  const full = join(tmp.path, "full");
  const mounted = (() => {
    if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
    mkdirSync(full);
    return spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", full]).status === 0;
  })();
  afterAll(() => {
    if (mounted) spawnSync("umount", [full]);
  });

  it.skipIf(!mounted)(
    "says where the answers went when git cannot write them (needs root to mount a small tmpfs)",
    async () => {
      process.env.TMPDIR = full;
      const { ended } = await readAll(dir, names, 1024 * 1024);
      expect(String(ended)).toMatch(/cat-file failed/);
      expect(String(ended)).toContain(
        `temporary file in ${full}: if that folder is full, set TMPDIR to another`,
      );
      expect(readdirSync(full)).toEqual([]);
    },
  );
});
