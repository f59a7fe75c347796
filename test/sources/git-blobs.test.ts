// The walk's parser: commit headers carry the message, which may hold anything but a NUL, and arrive in any
// pieces git's pipe cuts them into.
import { describe, expect, it } from "vitest";
import { BlobWalkParser, type WalkCommit } from "../../src/sources/git-blobs.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);

function parse(pieces: Buffer[]) {
  const seen: (WalkCommit | { blob: string; previous: string | undefined; path: string })[] = [];
  const parser = new BlobWalkParser({
    commit: (commit) => seen.push(commit),
    blob: (blob, previous, path) => seen.push({ blob, previous, path }),
  });
  for (const piece of pieces) parser.write(piece);
  parser.end();
  return seen;
}

describe("the blob walk's parser", () => {
  const rawLike = `:100644 100644 ${A} ${B} M\tnot-a-change.txt`;
  const message = `Deploy\n\n${rawLike}\nnon-ASCII: é\n`;
  const output = Buffer.concat([
    Buffer.from(`\0${A}\0Dev Eloper\0dev@example.com\x002026-11-30T10:00:00+00:00\0${message}\0\n\n`),
    Buffer.from(`:000000 100644 ${"0".repeat(40)} ${C} A\tsrc/app.js\n`),
    Buffer.from(`\0${B}\0Ops\0ops@example.com\x002026-11-30T11:00:00+00:00\0second\n\0\n\n`),
    Buffer.from(`:100644 100644 ${C} ${A} M\tsrc/app.js\n`),
  ]);
  const expected = [
    {
      commit: A,
      name: "Dev Eloper",
      email: "dev@example.com",
      date: "2026-11-30T10:00:00+00:00",
      message: Buffer.from(message).toString("latin1"),
    },
    { blob: C, previous: undefined, path: "src/app.js" },
    {
      commit: B,
      name: "Ops",
      email: "ops@example.com",
      date: "2026-11-30T11:00:00+00:00",
      message: "second\n",
    },
    { blob: A, previous: C, path: "src/app.js" },
  ];

  it("reads a message's lines as the message, never as changes", () => {
    expect(parse([output])).toEqual(expected);
  });

  it("gives the same records whatever the pieces", () => {
    for (const size of [1, 2, 7, 64, 333]) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < output.length; at += size) pieces.push(output.subarray(at, at + size));
      expect(parse(pieces), `pieces of ${size}`).toEqual(expected);
    }
  });

  it("a walk cut inside a header is an error, not a commit lost", () => {
    expect(() => parse([Buffer.from(`\0${A}\0Dev\0dev@example.com\0`)])).toThrow(/inside a commit header/);
  });
});
