// Git repositories as a source: the environment every git child gets, the repository checks, what a push
// brings in, and the `git log -p` process whose output git-patch.ts parses.
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import type { SimpleGit, SimpleGitOptions } from "simple-git";
import { exitOf } from "./child-output.js";
import { fileOutput } from "./file-output.js";
import { RepositoryError } from "./repository-error.js";

export { RepositoryError };

/** A git child whose output is being handed over (see `GitRepository.startReading`). */
export interface ReadingChild {
  child: ChildProcessByStdio<Writable, null, Readable>;
  /** Its exit code (1 when a signal ended it); rejects when it could not be started or was aborted. */
  exit: Promise<number>;
  /** Settles once every byte git wrote was handed over. */
  ended: Promise<void>;
  /** Bytes handed over so far. */
  delivered(): number;
  /** Where git's output goes on its way: the temporary folder, or undefined for a pipe. */
  folder?: string;
  /** Stops reading. */
  close(): void;
}

/** An all-zero object name: "no commit" in a push (the `before` of a new ref, the `after` of a deleted one). */
export function isZeroSha(sha: string): boolean {
  return /^0+$/.test(sha);
}

/** A full object name, SHA-1 or SHA-256. */
export const OBJECT_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Programs a read-only scan never needs git to start: editors, pagers, external diff tools. */
const DROPPED_VARIABLES = [
  "EDITOR",
  "VISUAL",
  "PAGER",
  "GIT_PAGER",
  "GIT_EDITOR",
  "GIT_SEQUENCE_EDITOR",
  "GIT_EXTERNAL_DIFF",
];

/**
 * simple-git hands `env` to git as the whole environment and refuses variables on its "unsafe" list unless
 * allowed (it does not strip or refuse the quarantine variables). Git itself sets GIT_EXEC_PATH in every hook,
 * operators set GIT_CONFIG_GLOBAL or GIT_SSH_COMMAND, and the GitHub App hands credentials over through
 * GIT_ASKPASS or GIT_CONFIG_COUNT + credential.helper: all trusted, because they come from our environment or
 * our caller, never from repository content. Our arguments are fixed, so the argument checks stay on.
 */
const TRUSTED_ENVIRONMENT: SimpleGitOptions["unsafe"] = {
  allowUnsafeConfigPaths: true,
  allowUnsafeAskPass: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeSshCommand: true,
  allowUnsafeGitProxy: true,
  allowUnsafeTemplateDir: true,
};

/** `-c` settings that keep git's output in the shape the parser reads, whatever the user's configuration. */
const STABLE_OUTPUT = [
  "-c",
  "core.quotePath=false",
  "-c",
  "diff.suppressBlankEmpty=false",
  "-c",
  "log.showRoot=true",
  "-c",
  "log.showSignature=false",
];

/**
 * Into a pipe, git writes 4 KB at a time, and every write wakes the reader: on a long history that is a fifth
 * of leakwarden's CPU time. Where coreutils' stdbuf works (Linux), it gives git's stdout a 64 KB buffer.
 * Probed once per process; without it, git runs directly.
 */
const STDOUT_BUFFER = "64K";
let stdbuf: string | null | undefined;
function stdbufCommand(env: Record<string, string>): string | null {
  if (stdbuf !== undefined) return stdbuf;
  stdbuf = null;
  if (process.platform !== "linux") return stdbuf;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const candidate = dir && join(dir, "stdbuf");
    if (candidate && existsSync(candidate)) {
      const probe = spawnSync(candidate, ["-o", STDOUT_BUFFER, "true"], {
        env,
        stdio: "ignore",
        timeout: 5000,
      });
      if (probe.status === 0) stdbuf = candidate;
      break;
    }
  }
  return stdbuf;
}

/**
 * The environment of every git child: ours, then the caller's additions (credentials, for instance), minus
 * the editors and pagers; git never prompts and never takes optional locks (scanning must not block a commit).
 * Inheriting matters in hooks: during pre-receive the pushed objects sit in a quarantine folder that only
 * GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES and GIT_QUARANTINE_PATH reveal, and in pre-commit
 * GIT_INDEX_FILE names the index being committed.
 */
export function gitEnvironment(
  extra: NodeJS.ProcessEnv = {},
  inherited: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) if (value !== undefined) env[name] = value;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  for (const name of DROPPED_VARIABLES) delete env[name];
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_OPTIONAL_LOCKS = "0";
  // Into a pipe, git log flushes after every commit by default: thousands of tiny reads. Buffered output
  // halves the cost of reading a long history.
  env.GIT_FLUSH = "0";
  return env;
}

/** A commit a ref points at, tags peeled. */
export interface RefTip {
  name: string;
  commit: string;
}

/** One line of a push: GitHub's `before` and `after`, git's `<old> <new> <ref>`. */
export interface PushUpdate {
  before: string;
  after: string;
  ref?: string;
}

/**
 * What a push brought in, as git revisions (`sha` includes, `^sha` excludes):
 * - `update`: normal or force push, the commits reachable from `after` and not from `before`;
 * - `create`: new branch or tag, reachable from `after` and from no other ref;
 * - `unknown-before`: `before` is not in this repository (a force push over history we never saw):
 *   treated as `create`, so that nothing new is missed;
 * - `delete`: nothing to scan.
 * With `excludeOtherRefs`, an update also leaves out what any other ref reaches: commits the repository
 * already had (a git server's pre-receive hook: they were accepted before, and a push that merges them in
 * adds nothing new).
 */
export type PushKind = "update" | "create" | "unknown-before" | "delete";

export interface PushPlan {
  kind: PushKind;
  revisions: string[];
}

export class GitRepository {
  private simpleGit: Promise<SimpleGit> | undefined;
  private located: Promise<{ shallow: string }> | undefined;

  private constructor(
    /** The folder git runs in: a working tree, a bare repository, or a hook's current folder. */
    readonly dir: string,
    readonly env: Record<string, string>,
    /** Values the caller added to the environment: never echoed in an error message. */
    private readonly hidden: string[],
  ) {}

  /** Opens the repository at `dir` (bare or not); `env` is added to the environment of every git child. */
  static async open(dir: string, env: NodeJS.ProcessEnv = {}): Promise<GitRepository> {
    const repo = GitRepository.prepare(dir, env);
    await repo.verify();
    return repo;
  }

  /** The repository object without running git yet: a scan may start git log first and verify meanwhile. */
  static prepare(dir: string, env: NodeJS.ProcessEnv = {}): GitRepository {
    if (!existsSync(dir)) throw new RepositoryError(`"${dir}" does not exist`);
    if (!statSync(dir).isDirectory())
      throw new RepositoryError(
        `"${dir}" is a file, not a git repository folder (to scan the file itself, leave out the git options)`,
      );
    const hidden = Object.values(env).filter((v): v is string => typeof v === "string" && v.length >= 6);
    return new GitRepository(dir, gitEnvironment(env), hidden);
  }

  /**
   * Where the repository's shallow file would be, asked once: the same git call checks that `dir` is in a
   * repository, so a scan's check and its shallow question cost one process.
   */
  private locate(): Promise<{ shallow: string }> {
    this.located ??= this.run(["rev-parse", "--git-dir", "--git-path", "shallow"]).then((out) => ({
      shallow: out.split("\n")[1]?.trim() ?? "",
    }));
    return this.located;
  }

  /** Fails with a one-line reason unless `dir` is in a git repository. */
  async verify(): Promise<void> {
    try {
      await this.locate();
    } catch (error) {
      const message = (error as Error).message;
      if (/not a git repository/i.test(message))
        throw new RepositoryError(`"${this.dir}" is not a git repository`);
      if (/ENOENT/.test(message)) throw new RepositoryError("git is not installed (or not on PATH)");
      throw error;
    }
  }

  /** simple-git, loaded on first use: a whole-history scan starts git before paying for it. */
  private git(): Promise<SimpleGit> {
    this.simpleGit ??= import("simple-git").then(({ simpleGit }) =>
      simpleGit({ baseDir: this.dir, unsafe: TRUSTED_ENVIRONMENT, config: [] }).env(this.env),
    );
    return this.simpleGit;
  }

  /** Removes the caller's secret values (tokens handed over in the environment) from a message. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.hidden) out = out.split(value).join("[hidden]");
    return out;
  }

  /**
   * Runs a git command to its end (`input` lines on its stdin) and returns its output; a failure becomes an error
   * whose message names the command. Spawned directly rather than through simple-git: a whole-history scan or a hook then never loads
   * simple-git (about 60 ms of start-up), and its small commands start before the scan's memory grows, when a
   * fork costs least.
   */
  async run(args: string[], input: string[] = []): Promise<string> {
    const child = this.spawn(args, input, undefined, false);
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      if (stderr.length < 16 * 1024) stderr += text;
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (exit) => resolve(exit ?? 1));
    }).catch((error: Error) => {
      throw this.failure(args[0] ?? "", error.message);
    });
    if (code !== 0) throw this.failure(args[0] ?? "", stderr);
    return Buffer.concat(out).toString("utf8");
  }

  /** The error for a failed git command: its first meaningful line of output, without the caller's secrets. */
  failure(command: string, output: string): RepositoryError {
    return new RepositoryError(this.scrub(`git ${command} failed in "${this.dir}": ${firstLine(output)}`));
  }

  /** The commit a revision names (tags peeled), or undefined when there is none. */
  async commitOf(revision: string): Promise<string | undefined> {
    try {
      const out = await (await this.git()).revparse([
        "--verify",
        "--quiet",
        "--end-of-options",
        `${revision}^{commit}`,
      ]);
      return OBJECT_NAME.test(out.trim()) ? out.trim() : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The commits revisions lead to (tags peeled), undefined where none: one git call for full object names (a
   * push's), one each otherwise.
   */
  async commitsOf(names: readonly string[]): Promise<(string | undefined)[]> {
    if (names.some((name) => !OBJECT_NAME.test(name)))
      return Promise.all(names.map((name) => this.commitOf(name)));
    const out = await this.run(
      ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
      names.map((name) => `${name}^{commit}`),
    );
    const lines = out.split("\n");
    return names.map((_, i) => {
      const [object = "", type] = (lines[i] ?? "").split(" ");
      return type === "commit" && OBJECT_NAME.test(object) ? object : undefined;
    });
  }

  /** Every ref and the commit it leads to; refs that lead to no commit (a tagged blob) are left out. */
  async refTips(): Promise<RefTip[]> {
    const format = "%(refname)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)";
    const out = await this.run(["for-each-ref", `--format=${format}`]);
    const tips: RefTip[] = [];
    for (const line of out.split("\n")) {
      const [name, type, object, peeledType, peeled] = line.split("\0");
      if (!name || !object) continue;
      if (type === "commit") tips.push({ name, commit: object });
      else if (type === "tag" && peeledType === "commit" && peeled) tips.push({ name, commit: peeled });
    }
    return tips;
  }

  async isBare(): Promise<boolean> {
    return (await this.run(["rev-parse", "--is-bare-repository"])).trim() === "true";
  }

  /**
   * The commits where a shallow clone's history is cut off (empty in a full clone). git shows each of them as
   * adding every file it holds, so a leak seen there may be older than the clone.
   */
  async shallowBoundary(): Promise<Set<string>> {
    const file = resolve(this.dir, (await this.locate()).shallow);
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return new Set(); // no such file: not shallow
    }
    return new Set(text.split("\n").filter((line) => OBJECT_NAME.test(line)));
  }

  /** The hooks folder, honouring core.hooksPath; relative to `dir` unless absolute. */
  async hooksDir(): Promise<string> {
    return (await this.run(["rev-parse", "--git-path", "hooks"])).trim();
  }

  /** Checks a user-given revision or range (`A..B`, `A...B`, `B`) and returns it; git's refusal becomes the error. */
  async checkRange(range: string): Promise<string> {
    if (range === "" || range.startsWith("-") || /\s/.test(range))
      throw new RepositoryError(
        `"${range}" is not a revision range; write it as A..B, A...B or a single ref`,
      );
    try {
      await (await this.git()).raw(["rev-parse", "--revs-only", range, "--"]);
    } catch (error) {
      throw new RepositoryError(
        this.scrub(
          `the range "${range}" does not resolve in "${this.dir}": ${firstLine((error as Error).message)}`,
        ),
      );
    }
    return range;
  }

  /** Decides which commits a push brought in (see PushKind). */
  async planPush(
    update: PushUpdate,
    options: { excludeOtherRefs?: boolean; tips?: readonly RefTip[] } = {},
  ): Promise<PushPlan> {
    if (isZeroSha(update.after)) return { kind: "delete", revisions: [] };
    const [after, before] = await this.commitsOf(
      isZeroSha(update.before) ? [update.after] : [update.after, update.before],
    );
    if (!after) {
      // A tag of a tree or a blob adds no commit; anything else missing is a caller's mistake.
      const exists = await this.run(["cat-file", "-t", update.after]).catch(() => "");
      if (exists.trim() !== "")
        return { kind: isZeroSha(update.before) ? "create" : "update", revisions: [] };
      throw new RepositoryError(
        `commit ${update.after} is not in "${this.dir}"; fetch it before scanning the push`,
      );
    }
    const kind: PushKind = before ? "update" : isZeroSha(update.before) ? "create" : "unknown-before";
    const revisions = [after];
    if (before) revisions.push(`^${before}`);
    if (!before || options.excludeOtherRefs) {
      const others = new Set<string>();
      for (const tip of options.tips ?? (await this.refTips()))
        if (tip.name !== update.ref) others.add(tip.commit);
      for (const commit of others) revisions.push(`^${commit}`);
    }
    return { kind, revisions };
  }

  /**
   * The first `length` bytes of a blob (fewer when it is shorter). Synchronous, for the patch parser's rare
   * questions; git is stopped once enough is read, so a large blob costs no more than a small one.
   */
  blobHead(blob: string, length: number): Buffer {
    if (!OBJECT_NAME.test(blob)) throw new RepositoryError(`"${blob}" is not an object name`);
    const result = spawnSync("git", ["--no-replace-objects", "cat-file", "blob", blob], {
      cwd: this.dir,
      env: this.env,
      maxBuffer: length,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stopped = (result.error as NodeJS.ErrnoException | undefined)?.code === "ENOBUFS";
    if (result.error && !stopped) throw this.failure("cat-file", result.error.message);
    if (!stopped && result.status !== 0) throw this.failure("cat-file", result.stderr.toString("utf8"));
    return result.stdout.subarray(0, length);
  }

  /**
   * Starts git with the stable-output settings. `input` lines are written to its stdin (revisions for
   * `--stdin`: no argument-length limit, whatever the number of refs).
   */
  spawn(
    args: string[],
    input: string[] = [],
    signal?: AbortSignal,
    buffered = true,
  ): ChildProcessByStdio<Writable, Readable, Readable> {
    const child = this.start(args, signal, buffered);
    child.stdin.end(input.length > 0 ? `${input.join("\n")}\n` : "");
    return child;
  }

  /**
   * Starts git with the stable-output settings and its stdin left open. `buffered`: through stdbuf where it
   * works, worth its start-up cost for output of many megabytes (see STDOUT_BUFFER).
   */
  start(
    args: string[],
    signal?: AbortSignal,
    buffered = true,
  ): ChildProcessByStdio<Writable, Readable, Readable> {
    const stdbuf = buffered ? stdbufCommand(this.env) : null;
    const command = stdbuf ?? "git";
    const prefix = stdbuf ? ["-o", STDOUT_BUFFER, "git"] : [];
    const child = spawn(command, [...prefix, "--no-replace-objects", ...STABLE_OUTPUT, ...args], {
      cwd: this.dir,
      env: this.env,
      stdio: ["pipe", "pipe", "pipe"],
      ...(signal ? { signal } : {}),
    });
    child.stdin.on("error", () => {}); // git may exit before reading everything; its exit code tells why
    return child;
  }

  /**
   * Starts git, its stdin left open, with its output handed to `onData` in pieces valid only during the call:
   * read through a temporary file into one reused buffer where one can be made (see file-output.ts), else from
   * a pipe. Nothing is handed over before `after` resolves (output that must follow another's). `ended`
   * settles once every byte git wrote was handed over; `delivered` counts them.
   */
  startReading(
    args: string[],
    onData: (bytes: Buffer) => void,
    signal?: AbortSignal,
    after: Promise<unknown> = Promise.resolve(),
  ): ReadingChild {
    const output = fileOutput(onData);
    let child: ChildProcessByStdio<Writable, Readable | null, Readable>;
    try {
      child = spawn("git", ["--no-replace-objects", ...STABLE_OUTPUT, ...args], {
        cwd: this.dir,
        env: this.env,
        stdio: ["pipe", output?.writer ?? "pipe", "pipe"],
        ...(signal ? { signal } : {}),
      }) as unknown as ChildProcessByStdio<Writable, Readable | null, Readable>;
    } catch (error) {
      output?.close();
      throw error;
    }
    child.stdin.on("error", () => {});
    const reading = child as ChildProcessByStdio<Writable, null, Readable>;
    const exit = exitOf(child);
    if (output) {
      output.start(exit, after);
      return {
        child: reading,
        exit,
        ended: output.ended,
        delivered: () => output.delivered,
        folder: output.folder,
        close: output.close,
      };
    }
    const pipe = child.stdout as Readable;
    let delivered = 0;
    // Held unread until `after`, with a 'readable' listener: Node resumes a child's stdout that nothing listens
    // to when the child exits, and what git wrote would be thrown away.
    const hold = () => {};
    pipe.on("readable", hold);
    const ended = new Promise<void>((resolve, reject) => {
      pipe.once("end", resolve);
      pipe.once("error", reject);
      after.then(
        () => {
          pipe.removeListener("readable", hold);
          pipe.on("data", (bytes: Buffer) => {
            delivered += bytes.length;
            onData(bytes);
          });
        },
        (error) => {
          pipe.destroy();
          reject(error);
        },
      );
    });
    ended.catch(() => {});
    return { child: reading, exit, ended, delivered: () => delivered, close: () => pipe.destroy() };
  }
}

function firstLine(text: string): string {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  return (line ?? "unknown error").replace(/^(fatal|error): /, "");
}
