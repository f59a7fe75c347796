// `.leakwardenignore`: fingerprints of findings to leave out of reports, one per line, with `#` comments. It is
// the file form of a baseline, meant to be reviewed and committed.
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
