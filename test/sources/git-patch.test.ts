import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitRepository } from "../../src/sources/git.js";
import { LOG_PATCH_ARGS, PatchParser, unquotePath } from "../../src/sources/git-patch.js";
import { tempDir } from "../support/cli.js";
import { createRepo, type TestRepo, testGitEnv } from "../support/git.js";

/** Parses `output` fed in pieces of `chunkSize` bytes; returns the events as readable strings. */
function parse(
  output: Buffer,
  chunkSize: number,
  options: { maxFileSize?: number; ignored?: (path: string) => boolean } = {},
): string[] {
  const events: string[] = [];
  let commit = "";
  const parser = new PatchParser(
    {
      commit: (c) => {
        commit = c.commit;
        events.push(`commit ${c.commit} ${c.author} ${c.date}`);
      },
      file: (f) =>
        events.push(
          `file ${commit} ${f.path} ${f.segments
            .map((s) => `${s.firstLine}:${JSON.stringify(f.bytes.toString("utf8", s.start, s.end))}`)
            .join(" ")}${f.continued ? ` continued, scan from ${f.scanFrom}` : ""}`,
        ),
      skip: (path, reason) => events.push(`skip ${commit} ${path} ${reason}`),
      ...(options.ignored ? { wants: (path: string) => !options.ignored?.(path) } : {}),
    },
    options.maxFileSize ?? 1024 * 1024,
  );
  for (let i = 0; i < output.length; i += chunkSize) parser.write(output.subarray(i, i + chunkSize));
  parser.end();
  return events;
}

async function gitOutput(dir: string, args: string[], env: Record<string, string>): Promise<Buffer> {
  const repo = await GitRepository.open(dir, env);
  const child = repo.spawn(args);
  const chunks: Buffer[] = [];
  for await (const chunk of child.stdout) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const tmp = tempDir();
let repo: TestRepo;
let output: Buffer;
const sha: Record<string, string> = {};

beforeAll(async () => {
  const home = join(tmp.path, "home");
  repo = await createRepo(join(tmp.path, "repo"), home);
  sha.first = await repo.commit(
    {
      "plain.txt": "a\nb\nc\n",
      "bin.dat": Buffer.from([1, 0, 2, 3]),
      'quo" te.bin': Buffer.from([0, 0, 7]),
      "with space.txt": "spaced\n",
      'q"t\tx': "quoted\n",
      "é.txt": "accent\n",
      "conflict.txt": "one\ntwo\nthree\n",
      "tail.txt": "no newline at the end",
    },
    "first",
  );
  sha.edit = await repo.commit(
    { "plain.txt": "a\nB\nc\nd\ne\n", "tail.txt": "no newline at the end, still" },
    "edit",
  );
  await repo.git.rm(["bin.dat"]);
  sha.removeBinary = await repo.commit({}, "remove the binary");
  await repo.git.mv("plain.txt", "moved.txt");
  sha.rename = await repo.commit({ "moved.txt": "A\nB\nc\nd\ne\n" }, "rename with an edit");
  repo.run("update-index", "--add", "--cacheinfo", `160000,${sha.first},vendor/lib`);
  repo.run("commit", "--quiet", "-m", "add a submodule pointer");
  sha.submodule = await repo.head();

  await repo.git.checkoutLocalBranch("side");
  sha.side = await repo.commit({ "conflict.txt": "one\nside\nthree\n" }, "side");
  await repo.git.checkout("main");
  sha.main = await repo.commit({ "conflict.txt": "one\nmain\nthree\n" }, "main");
  await repo.git.merge(["side"]).catch(() => undefined);
  sha.resolution = await repo.commit({ "conflict.txt": "one\nresolved\nextra\nthree\n" }, "merge side");

  await repo.git.checkoutLocalBranch("feature");
  sha.feature = await repo.commit({ "feature.txt": "feature\n" }, "feature");
  await repo.git.checkout("main");
  sha.other = await repo.commit({ "other.txt": "other\n" }, "other");
  await repo.git.merge(["--no-edit", "feature"]);
  sha.plainMerge = await repo.head();

  output = await gitOutput(repo.dir, [...LOG_PATCH_ARGS, "--all"], testGitEnv(home));
});
afterAll(tmp.remove);

describe("PatchParser on real git log output", () => {
  it("reads commits: full SHA, 'Name <email>', ISO 8601 date", () => {
    const commits = parse(output, output.length).filter((e) => e.startsWith("commit"));
    expect(commits).toHaveLength(11);
    expect(commits).toContainEqual(
      expect.stringMatching(
        new RegExp(`^commit ${sha.first} Ada Lovelace <ada@example\\.com> 2024-\\d\\d-\\d\\dT`),
      ),
    );
  });

  it("hands over each file change's added lines at their new line numbers", () => {
    const events = parse(output, output.length);
    expect(events).toContain(`file ${sha.first} plain.txt 1:"a\\nb\\nc\\n"`);
    expect(events).toContain(`file ${sha.edit} plain.txt 2:"B\\n" 4:"d\\ne\\n"`);
    expect(events).toContain(`file ${sha.edit} tail.txt 1:"no newline at the end, still\\n"`);
  });

  it("decodes paths with spaces, quotes, tabs and non-ASCII characters", () => {
    const events = parse(output, output.length);
    expect(events).toContain(`file ${sha.first} with space.txt 1:"spaced\\n"`);
    expect(events).toContain(`file ${sha.first} q"t\tx 1:"quoted\\n"`);
    expect(events).toContain(`file ${sha.first} é.txt 1:"accent\\n"`);
  });

  it("follows a rename: only the edited line, under the new path", () => {
    const events = parse(output, output.length).filter((e) => e.includes(sha.rename as string));
    expect(events).toEqual([expect.stringMatching(/^commit /), `file ${sha.rename} moved.txt 1:"A\\n"`]);
  });

  it("counts a new binary, ignores a deleted one and submodule pointers", () => {
    const events = parse(output, output.length);
    expect(events.filter((e) => e.startsWith("skip"))).toEqual([
      `skip ${sha.first} bin.dat binary`,
      `skip ${sha.first} quo" te.bin binary`,
    ]);
    expect(events.filter((e) => e.includes(sha.submodule as string))).toHaveLength(1); // the commit alone
  });

  it("merges: a conflict resolution's own lines are scanned, a plain merge adds nothing", () => {
    const events = parse(output, output.length);
    expect(events).toContain(`file ${sha.resolution} conflict.txt 2:"resolved\\nextra\\n"`);
    expect(events.filter((e) => e.includes(sha.plainMerge as string))).toHaveLength(1);
    expect(events).toContain(`file ${sha.feature} feature.txt 1:"feature\\n"`);
  });

  it("gives the same events whatever the chunk boundaries", () => {
    const whole = parse(output, output.length);
    for (const size of [1, 2, 3, 5, 17, 64, 4096]) expect(parse(output, size)).toEqual(whole);
  });

  it("drops the lines of ignored paths and counts them", () => {
    const events = parse(output, 7, { ignored: (path) => path !== "moved.txt" });
    expect(events.filter((e) => e.startsWith("file"))).toEqual([`file ${sha.rename} moved.txt 1:"A\\n"`]);
    expect(events).toContain(`skip ${sha.first} bin.dat ignored`);
    expect(events).toContain(`skip ${sha.first} plain.txt ignored`);
  });
});

describe("PatchParser limits", () => {
  const patch = (body: string) =>
    Buffer.from(
      `\0${"a".repeat(40)}\0N\0n@x\0 2024-01-01T00:00:00Z\n\ndiff --git a/big.txt b/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/big.txt\n@@ -0,0 +1,3 @@\n${body}diff --git a/next.txt b/next.txt\n--- a/next.txt\n+++ b/next.txt\n@@ -1 +1 @@\n-x\n+y\n`,
    );

  it("hands a file change that adds more than maxFileSize over in pieces, each led by the last one's end", () => {
    const events = parse(patch("+12345\n+67890\n+abcde\n"), 3, { maxFileSize: 12 });
    expect(events.slice(1)).toEqual([
      `file ${"a".repeat(40)} big.txt 1:"12345\\n67890\\n"`,
      `file ${"a".repeat(40)} big.txt 2:"67890\\nabcde\\n" continued, scan from 6`,
      `file ${"a".repeat(40)} next.txt 1:"y\\n"`,
    ]);
  });

  it("does not hold a huge line in memory", () => {
    const line = `+${"x".repeat(300_000)}\n`;
    const events = parse(patch(line), 1000, { maxFileSize: 1000 });
    expect(events.slice(1)).toEqual([
      `skip ${"a".repeat(40)} big.txt tooLarge`,
      `file ${"a".repeat(40)} next.txt 1:"y\\n"`,
    ]);
  });

  it("ignores a submodule pointer even when git shows it", () => {
    const text = Buffer.from(
      `diff --git a/lib b/lib\nnew file mode 160000\nindex 0000000..1234567\n--- /dev/null\n+++ b/lib\n@@ -0,0 +1 @@\n+Subproject commit ${"1".repeat(40)}\n`,
    );
    expect(parse(text, 5)).toEqual([]);
  });

  it("reads combined diffs with any number of parents (an octopus merge)", () => {
    const text = Buffer.from(
      `diff --cc f.txt\nindex 1,2,3..4\n--- a/f.txt\n+++ b/f.txt\n@@@@ -1,2 -1,2 -1,2 +1,4 @@@@\n   same\n-  gone\n+++new in no parent\n ++from the first parent\n+++also new\n`,
    );
    const events = parse(text, 4);
    expect(events).toEqual([`file  f.txt 2:"new in no parent\\n" 4:"also new\\n"`]);
  });
});

describe("unquotePath", () => {
  it.each([
    ["plain/path.txt", "plain/path.txt"],
    ['"tab\\there"', "tab\there"],
    ['"quote\\"and\\\\slash"', 'quote"and\\slash'],
    ['"\\303\\251t\\303\\251"', "été"],
    ['"emoji \\t🙂"', "emoji \t🙂"],
  ])("%s", (raw, path) => expect(unquotePath(raw)).toBe(path));
});
