// A child's output read through a temporary file: every byte arrives, in order, through the same memory, only
// after what it must follow, and the file is gone from the temporary folder while it is read.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type FileOutput, fileOutput } from "../../src/sources/file-output.js";
import { tempDir } from "../support/cli.js";

/** A child that writes `megabytes` of numbered lines, flushing as it goes, as git cat-file does. */
const WRITER = `
let i = 0;
const total = Number(process.argv[1]) * 1024 * 1024;
let written = 0;
function more() {
  while (written < total) {
    const line = \`line \${i++} \${"x".repeat(i % 200)}\\n\`;
    written += line.length;
    if (!process.stdout.write(line)) return process.stdout.once("drain", more);
  }
}
more();
`;

function expected(megabytes: number): { sha256: string; bytes: number } {
  const hash = createHash("sha256");
  let written = 0;
  for (let i = 0; written < megabytes * 1024 * 1024; ) {
    const line = `line ${i++} ${"x".repeat(i % 200)}\n`;
    written += line.length;
    hash.update(line);
  }
  return { sha256: hash.digest("hex"), bytes: written };
}

const tmp = tempDir();
const savedTmpdir = process.env.TMPDIR;
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});
afterAll(() => tmp.remove());

/** This process's descriptors open on temporary output files (Linux: /proc/self/fd). */
function openOutputFiles(): number {
  let open = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (/leakwarden-.*\.out/.test(readlinkSync(`/proc/self/fd/${fd}`))) open++;
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

/** Resolves once no temporary output file is open any more (the reader's close runs on the thread pool). */
async function outputFilesClosed(): Promise<number> {
  const deadline = Date.now() + 5000;
  while (openOutputFiles() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return openOutputFiles();
}

/** Starts `node -e script args` writing into `output`; resolves with its exit code. */
function run(output: FileOutput, script: string, args: string[], after?: Promise<unknown>) {
  const child = spawn(process.execPath, ["-e", script, ...args], {
    stdio: ["ignore", output.writer, "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  output.start(exited, after);
  return { child, exited };
}

describe("file output", () => {
  it("hands over every byte the child wrote, in order, in one reused buffer, from an unlinked file", async () => {
    process.env.TMPDIR = tmp.path;
    const hash = createHash("sha256");
    const buffers = new Set<ArrayBufferLike>();
    let pieces = 0;
    const output = fileOutput((bytes) => {
      pieces++;
      buffers.add(bytes.buffer);
      hash.update(bytes);
    });
    if (!output) throw new Error("a temporary file could not be made here");
    expect(readdirSync(tmp.path)).toEqual([]); // unlinked as soon as it was open
    const { exited } = run(output, WRITER, ["6"]);
    expect(await exited).toBe(0);
    await output.ended;
    const whole = expected(6);
    expect(hash.digest("hex")).toBe(whole.sha256);
    expect(output.delivered).toBe(whole.bytes);
    expect(pieces).toBeGreaterThan(1);
    expect(buffers.size).toBe(1);
    if (process.platform === "linux") expect(await outputFilesClosed()).toBe(0);
  });

  it("ends when the child dies, with what it wrote", async () => {
    let bytes = 0;
    const output = fileOutput((piece) => {
      bytes += piece.length;
    });
    if (!output) throw new Error("a temporary file could not be made here");
    const { child } = run(output, "process.stdout.write('partial'); setInterval(() => {}, 1000)", []);
    while (bytes === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill();
    await output.ended;
    expect(bytes).toBe("partial".length);
  });

  it("hands nothing over before what it follows has resolved, and nothing at all if that failed", async () => {
    const order: string[] = [];
    const first = fileOutput((bytes) => order.push(`first ${bytes}`));
    const second = fileOutput((bytes) => order.push(`second ${bytes}`));
    const third = fileOutput((bytes) => order.push(`third ${bytes}`));
    if (!first || !second || !third) throw new Error("a temporary file could not be made here");
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const written = run(second, "process.stdout.write('2')", [], gate);
    run(third, "process.stdout.write('3')", [], Promise.reject(new Error("the one before failed")));
    await written.exited; // the second child has written and gone, the first has not started
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(order).toEqual([]);
    run(first, "setTimeout(() => process.stdout.write('1'), 50)", []);
    await first.ended;
    release();
    await second.ended;
    await expect(third.ended).rejects.toThrow("the one before failed");
    expect(order).toEqual(["first 1", "second 2"]);
  });

  it("is not made where the temporary folder cannot hold a file", () => {
    process.env.TMPDIR = join(tmp.path, "missing", "folder");
    expect(fileOutput(() => {})).toBeUndefined();
  });
});
