// `.leakwardenignore`: fingerprints of findings to leave out of reports, one per line, with `#` comments. It is
// the file form of a baseline, meant to be reviewed and committed.
import { execFile } from "node:child_process";
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
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new UserError(`"${commit}" is not a commit id`);
  const spec = `${commit}:${FINGERPRINT_IGNORE_FILE}`;
  const git = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      execFile(
        "git",
        ["--git-dir", gitDir, ...args],
        { env, encoding: "utf8", maxBuffer: MAX_IGNORE_FILE + 1024 },
        (error, stdout) => {
          if (error && typeof (error as { code?: unknown }).code !== "number") reject(error);
          else resolve({ code: error ? Number((error as { code?: number }).code) : 0, stdout });
        },
      );
    });
  const type = await git(["cat-file", "-t", spec]);
  if (type.code !== 0) return new Set();
  if (type.stdout.trim() !== "blob") throw new UserError(`${FINGERPRINT_IGNORE_FILE} is not a file`);
  const size = Number((await git(["cat-file", "-s", spec])).stdout.trim());
  if (!(size <= MAX_IGNORE_FILE))
    throw new UserError(`${FINGERPRINT_IGNORE_FILE} is larger than ${MAX_IGNORE_FILE} bytes`);
  const { code, stdout } = await git(["cat-file", "blob", spec]);
  if (code !== 0)
    throw new UserError(`${FINGERPRINT_IGNORE_FILE} could not be read at ${commit.slice(0, 12)}`);
  return parseFingerprintIgnore(stdout, FINGERPRINT_IGNORE_FILE);
}
