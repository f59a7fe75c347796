// `scan --git` of a whole history by blobs starts git's walk before the scanner's modules load (see
// walk-ahead.ts): about 0.1 s of a 2.2 s scan of expressjs/express (bench/history.js). Only the plain case is
// started, read with the scan's own options; anything else, or a guess the scan does not confirm, costs at most
// a git process killed at once.
import { parseArgs } from "node:util";
import { SCAN_FLAGS } from "./scan-flags.js";

export async function startScanAhead(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SCAN_FLAGS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options: SCAN_FLAGS, allowPositionals: true, strict: true });
  } catch {
    return; // the scan says what is wrong
  }
  const { values, positionals } = parsed;
  const method = values["history-scan"];
  const wholeHistory =
    values.git === true &&
    values.range === undefined &&
    values.since === undefined &&
    (method === undefined || method === "auto" || method === "blobs") &&
    positionals.length <= 1;
  if (!wholeHistory) return;
  const [{ GitRepository }, { blobWalkArgs }, { startWalkAhead }] = await Promise.all([
    import("../sources/git.js"),
    import("../sources/git-blobs.js"),
    import("../sources/walk-ahead.js"),
  ]);
  try {
    startWalkAhead(GitRepository.prepare(positionals[0] ?? "."), blobWalkArgs(["--all"]));
  } catch {
    // not a folder: the scan says so
  }
}
