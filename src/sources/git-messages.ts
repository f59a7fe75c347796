// Commit messages and annotated tag messages: text no diff shows, where a token pasted into
// `git commit -m` or `git tag -m` would otherwise hide.
import type { GitRepository } from "./git.js";
import type { CommitInfo } from "./git-patch.js";

export interface GitMessage {
  origin: CommitInfo;
  /** Shown as the finding's file: `<commit message>` or `<tag NAME message>`. */
  path: string;
  text: string;
}

/** A commit message and its commit's position in the log (1: listed first). */
export interface RankedMessage {
  message: GitMessage;
  rank: number;
}

const COMMIT_FORMAT = "--format=tformat:%x00%H%x00%an%x00%ae%x00%aI%x00%B";
const TAG_FORMAT =
  "--format=%00%(objecttype)%00%(refname:short)%00%(*objectname)%00%(taggername)%00%(taggeremail)%00%(taggerdate:iso-strict)%00%(contents)";

/** Splits NUL-separated records of `fields` fields each (every record starts with a NUL). */
function records(output: string, fields: number): string[][] {
  const parts = output.split("\0").slice(1);
  const out: string[][] = [];
  for (let i = 0; i + fields <= parts.length; i += fields) out.push(parts.slice(i, i + fields));
  return out;
}

/** The message of every commit `revisions` select (`--all`, a range, `--since=...`, `^excluded`...). */
export async function commitMessages(
  repo: GitRepository,
  revisions: readonly string[],
): Promise<GitMessage[]> {
  const output = await repo.run(["log", COMMIT_FORMAT, ...revisions]);
  return records(output, 5).map(([commit, name, email, date, body]) => ({
    origin: { commit: commit as string, author: `${name} <${email}>`, date: date as string },
    path: "<commit message>",
    text: body ?? "",
  }));
}

/**
 * The messages of the commits `revisions` select, as git streams them, each handed to `keep`; only those it
 * keeps are held, with their positions. For a long history, where holding every message would cost more than
 * the scan itself.
 */
export async function keptCommitMessages(
  repo: GitRepository,
  revisions: readonly string[],
  keep: (message: GitMessage) => boolean,
): Promise<RankedMessage[]> {
  const kept: RankedMessage[] = [];
  let position = 0;
  const child = repo.spawn(["log", COMMIT_FORMAT, ...revisions], [], undefined, false);
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    if (stderr.length < 16 * 1024) stderr += text;
  });
  // Records are `\0` + five NUL-separated fields; a body holds no NUL, so a field ends at the next one.
  let rest = "";
  let fields: string[] = [];
  const take = (field: string) => {
    fields.push(field);
    if (fields.length < 6) return;
    const [, commit = "", name, email, date = "", body = ""] = fields;
    fields = [""];
    const message = {
      origin: { commit, author: `${name} <${email}>`, date },
      path: "<commit message>",
      text: body,
    };
    position++;
    if (keep(message)) kept.push({ message, rank: position });
  };
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    const parts = (rest + text).split("\0");
    rest = parts.pop() ?? "";
    for (const part of parts) take(part);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exit) => resolve(exit ?? 1));
  });
  if (code !== 0) throw repo.failure("log", stderr);
  if (fields.length > 0 || rest !== "") take(rest);
  return kept;
}

/** The message of every annotated tag (lightweight tags have none), attributed to the commit it tags. */
export async function tagMessages(repo: GitRepository): Promise<GitMessage[]> {
  const output = await repo.run(["for-each-ref", TAG_FORMAT, "refs/tags"]);
  return records(output, 7)
    .filter(([type]) => type === "tag")
    .map(([, name, object, tagger, email, date, contents]) => ({
      origin: { commit: object as string, author: `${tagger} ${email}`, date: date as string },
      path: `<tag ${name} message>`,
      text: contents ?? "",
    }));
}
