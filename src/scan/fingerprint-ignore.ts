// `.leakwardenignore`: fingerprints of findings to leave out of reports, one per line, with `#` comments. It is
// the file form of a baseline, meant to be reviewed and committed.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileProblem, UserError } from "../errors.js";

export const FINGERPRINT_IGNORE_FILE = ".leakwardenignore";

/** What a scan writes in `fingerprint`: 32 hex digits. */
const FINGERPRINT = /^[0-9a-f]{32}$/;

export function parseFingerprintIgnore(text: string, path: string): Set<string> {
  const fingerprints = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    if (!FINGERPRINT.test(line))
      throw new UserError(
        `${path} line ${index + 1} is not a finding fingerprint (32 hex digits, as the JSON report's "fingerprint")`,
      );
    fingerprints.add(line);
  });
  return fingerprints;
}

/** The fingerprints in `path`, or none when there is no such file. */
export function loadFingerprintIgnore(path: string): Set<string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw new UserError(`cannot read ${path}: ${fileProblem(error)}`);
  }
  return parseFingerprintIgnore(text, path);
}

/** A `.leakwardenignore` larger than this is refused: 1 MB holds some 30,000 fingerprints. */
const MAX_IGNORE_FILE = 1024 * 1024;

/**
 * The fingerprints in the `.leakwardenignore` at the root of `commit` in a git repository (the App reads the
 * pushed commit's): none when the commit has no such file. A malformed file throws a UserError naming the line.
 */
export async function loadFingerprintIgnoreAt(
  gitDir: string,
  commit: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Set<string>> {
  const [read] = await loadFingerprintIgnoresAt(gitDir, [commit], env);
  if (read instanceof Error) throw read;
  return read ?? new Set();
}

/**
 * `loadFingerprintIgnoreAt` for several commits (a burst of pushes) in two git calls whatever their number: one
 * `cat-file --batch-check` says which commits have the file, one `cat-file --batch` reads each distinct file once.
 * Per commit, in order: its fingerprints, or the UserError that says why its file cannot be used.
 */
export async function loadFingerprintIgnoresAt(
  gitDir: string,
  commits: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<(Set<string> | Error)[]> {
  const out: (Set<string> | Error)[] = commits.map((commit) =>
    COMMIT_ID.test(commit) ? new Set<string>() : new UserError(`"${commit}" is not a commit id`),
  );
  const asked = commits.flatMap((_, i) => (out[i] instanceof Error ? [] : [i]));
  if (asked.length === 0) return out;
  const specs = asked.map((i) => `${commits[i]}:${FINGERPRINT_IGNORE_FILE}`);
  const checked = (await gitWithInput(gitDir, ["cat-file", "--batch-check"], specs, env))
    .toString("utf8")
    .split("\n");
  const blobOf = new Map<number, string>();
  asked.forEach((i, k) => {
    // `<oid> <type> <size>`, or `<spec> missing` when the commit has no such file.
    const [oid, type, size] = (checked[k] ?? "").split(" ");
    if (type === undefined || size === undefined || oid === undefined) return;
    if (type !== "blob") out[i] = new UserError(`${FINGERPRINT_IGNORE_FILE} is not a file`);
    else if (!(Number(size) <= MAX_IGNORE_FILE))
      out[i] = new UserError(`${FINGERPRINT_IGNORE_FILE} is larger than ${MAX_IGNORE_FILE} bytes`);
    else blobOf.set(i, oid);
  });
  const blobs = [...new Set(blobOf.values())];
  if (blobs.length === 0) return out;
  const texts = parseBatch(await gitWithInput(gitDir, ["cat-file", "--batch"], blobs, env));
  for (const [i, oid] of blobOf) {
    const text = texts.get(oid);
    try {
      if (text === undefined)
        throw new UserError(
          `${FINGERPRINT_IGNORE_FILE} could not be read at ${(commits[i] as string).slice(0, 12)}`,
        );
      out[i] = parseFingerprintIgnore(text, FINGERPRINT_IGNORE_FILE);
    } catch (error) {
      out[i] = error as Error;
    }
  }
  return out;
}

const COMMIT_ID = /^[0-9a-f]{40,64}$/;

/** `cat-file --batch` output (`<oid> <type> <size>\n<content>\n` per object) as text by object id. */
function parseBatch(output: Buffer): Map<string, string> {
  const texts = new Map<string, string>();
  let at = 0;
  while (at < output.length) {
    const end = output.indexOf(10, at);
    if (end < 0) break;
    const [oid, type, size] = output.toString("utf8", at, end).split(" ");
    at = end + 1;
    if (oid === undefined || type === undefined || size === undefined) continue;
    const length = Number(size);
    texts.set(oid, output.toString("utf8", at, at + length));
    at += length + 1;
  }
  return texts;
}

/** Runs git with one line per input on its stdin; its whole output, or its own reason for failing. */
function gitWithInput(
  gitDir: string,
  args: string[],
  input: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["--git-dir", gitDir, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      if (stderr.length < 4096) stderr += text;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(Buffer.concat(stdout));
      else reject(new UserError(`git ${args.join(" ")} failed: ${stderr.trim().split("\n")[0] ?? code}`));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(`${input.join("\n")}\n`);
  });
}
