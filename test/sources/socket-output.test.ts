// A child's output read into one reused buffer: every byte arrives, in order, through the same memory, and the
// end is known only once all of it was handed over.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { socketOutput } from "../../src/sources/socket-output.js";

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

function expected(megabytes: number): string {
  const hash = createHash("sha256");
  let written = 0;
  for (let i = 0; written < megabytes * 1024 * 1024; ) {
    const line = `line ${i++} ${"x".repeat(i % 200)}\n`;
    written += line.length;
    hash.update(line);
  }
  return hash.digest("hex");
}

describe("socket output", () => {
  it("hands over every byte the child wrote, in order, in one reused buffer", async () => {
    const hash = createHash("sha256");
    const buffers = new Set<ArrayBufferLike>();
    let pieces = 0;
    const output = await socketOutput((bytes) => {
      pieces++;
      buffers.add(bytes.buffer);
      hash.update(bytes);
    });
    if (!output) throw new Error("a UNIX socket could not be made here");
    const child = spawn(process.execPath, ["-e", WRITER, "6"], {
      stdio: ["ignore", output.writer, "inherit"],
    });
    output.writer.destroy();
    const code = await new Promise((resolve) => child.once("close", resolve));
    await output.ended;
    expect(code).toBe(0);
    expect(hash.digest("hex")).toBe(expected(6));
    expect(pieces).toBeGreaterThan(10);
    expect(buffers.size).toBe(1);
  });

  it("ends when the child dies, whatever it wrote", async () => {
    let bytes = 0;
    const output = await socketOutput((piece) => {
      bytes += piece.length;
    });
    if (!output) throw new Error("a UNIX socket could not be made here");
    const child = spawn(
      process.execPath,
      ["-e", "process.stdout.write('partial'); setInterval(() => {}, 1000)"],
      {
        stdio: ["ignore", output.writer, "inherit"],
      },
    );
    output.writer.destroy();
    while (bytes === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill();
    await output.ended;
    expect(bytes).toBe("partial".length);
  });
});
