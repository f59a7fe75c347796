// The blob side of a history scan: which blobs each commit brings (a `git log --raw` walk, which reads trees
// but no file content, and gives each commit's message on the way), and the blobs' contents, each read once
// through one long-lived `git cat-file --batch`.

/**
 * `git log` arguments for the walk; revisions follow. The same walk as LOG_PATCH_ARGS (--topo-order, --cc,
 * roots shown in full by git.ts's settings), so a commit's rank here is its position in a patch scan. Without
 * content diffs or rename detection, a renamed file shows as an addition of the same blob: for a blob's
 * commits, a superset of what the patch scan would show.
 */
export const BLOB_WALK_ARGS = [
  "log",
  // A commit's header ends at the NUL after its message (a message holds no NUL): one walk, not a second
  // `git log` for the messages.
  "--format=tformat:%x00%H%x00%an%x00%ae%x00%aI%x00%B%x00",
  "--topo-order",
  "--cc",
  "--raw",
  "--no-abbrev",
  "--no-renames",
  "--no-color",
];

/**
 * The whole walk's arguments for `revisions` (`--all`, or `--stdin` and the like): BLOB_WALK_ARGS, oldest
 * first, so that a file's parent version was usually read just before it.
 */
export function blobWalkArgs(revisions: readonly string[]): string[] {
  return [...BLOB_WALK_ARGS, "--reverse", ...revisions];
}

/**
 * `git cat-file` arguments: object names on stdin, `<name> <type> <size>\n<content>\n` back, in order. Not
 * flushed after each object (`--buffer`: a system call less per blob): at most a few KB of answers wait in
 * git's buffer until more names or the end of its input come, and the walk, which waits only for thousands
 * of answers, never waits for those.
 */
export const BLOB_READ_ARGS = ["cat-file", "--batch", "--buffer"];

/** A commit of the walk, its fields as git wrote them, read as Latin-1 (decode names and message as UTF-8). */
export interface WalkCommit {
  commit: string;
  name: string;
  email: string;
  date: string;
  message: string;
}

export interface BlobWalkHandler {
  /** The next commit of the walk. */
  commit(commit: WalkCommit): void;
  /**
   * A blob that the current commit's version of a file holds, where it differs from the parents, and the
   * blob the first parent had at that path (undefined when it had none, or a submodule there). `path` is as
   * git prints it (quoted when unusual), read as Latin-1.
   */
  blob(blob: string, previous: string | undefined, path: string): void;
}

/** Commit, name, email, date, message: the fields of a walk's commit header. */
const HEADER_FIELDS = 5;
const DELETED_MODE = "000000";
/** A submodule pointer names a commit of another repository, not content. */
const GITLINK_MODE = "160000";

/**
 * Parses the walk's output: a header per commit, `\0<commit>\0<name>\0<email>\0<date>\0<message>\0`, then one
 * raw line per changed path: `:<old mode> <new mode> <old> <new> <status>\t<path>`, and for a merge one colon,
 * mode and name per parent (`::<mode1> <mode2> <new mode> <p1> <p2> <new> MM\t<path>`). Paths are quoted by git
 * when they hold a newline, so a raw line is always one record; a message may hold newlines, so a header is
 * read up to its last NUL.
 */
export class BlobWalkParser {
  private rest = "";

  constructor(private readonly handler: BlobWalkHandler) {}

  write(chunk: Buffer): void {
    // Inside a header, only a NUL can end it: a long message is not searched again at every piece.
    if (this.rest.charCodeAt(0) === 0 && !chunk.includes(0)) {
      this.rest += chunk.toString("latin1");
      return;
    }
    const text = this.rest + chunk.toString("latin1");
    let start = 0;
    while (start < text.length) {
      if (text.charCodeAt(start) === 0) {
        const end = this.header(text, start);
        if (end === -1) break;
        start = end;
        continue;
      }
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      this.line(text, start, nl);
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  end(): void {
    const rest = this.rest;
    this.rest = "";
    if (rest === "") return;
    if (rest.charCodeAt(0) === 0) {
      if (this.header(rest, 0) === -1) throw new Error("git log ended inside a commit header");
    } else this.line(rest, 0, rest.length);
  }

  /** Reads the header at `start` (a NUL); returns where it ends, or -1 when it is not all here yet. */
  private header(text: string, start: number): number {
    const fields: string[] = [];
    let at = start;
    while (fields.length < HEADER_FIELDS) {
      const nul = text.indexOf("\0", at + 1);
      if (nul === -1) return -1;
      fields.push(text.slice(at + 1, nul));
      at = nul;
    }
    const [commit = "", name = "", email = "", date = "", message = ""] = fields;
    this.handler.commit({ commit, name, email, date, message });
    return at + 1;
  }

  private line(text: string, start: number, end: number): void {
    if (text.charCodeAt(start) !== 58 /* : */) return;
    let parents = 0;
    while (text.charCodeAt(start + parents) === 58) parents++;
    let tab = text.indexOf("\t", start);
    if (tab === -1 || tab > end) tab = end;
    // Space-separated fields: parents + 1 modes, then as many object names, then the status. Read in place,
    // only the names kept (this runs for every path of every commit).
    let from = start + parents;
    let firstUsable = false;
    let usable = false;
    let previous: string | undefined;
    let blob: string | undefined;
    for (let field = 0; field <= 2 * parents + 1; field++) {
      let space = text.indexOf(" ", from);
      if (space === -1 || space > tab) space = tab;
      if (field === 0) firstUsable = usableMode(text, from, space);
      if (field === parents) usable = usableMode(text, from, space);
      else if (field === parents + 1 && firstUsable) previous = text.slice(from, space);
      if (field === 2 * parents + 1 && space > from) blob = text.slice(from, space);
      if (space === tab) break;
      from = space + 1;
    }
    if (!usable || blob === undefined) return;
    this.handler.blob(blob, previous, tab === end ? "" : text.slice(tab + 1, end));
  }
}

/** Whether the mode in text[from, to) is a file's: not a deletion's, nor a submodule pointer's. */
function usableMode(text: string, from: number, to: number): boolean {
  if (to === from) return false;
  if (to - from !== 6) return true;
  return !text.startsWith(DELETED_MODE, from) && !text.startsWith(GITLINK_MODE, from);
}

export interface BlobContentHandler {
  /** A blob's content begins: `size` bytes follow through `data`, then `end`. */
  start(blob: string, size: number): void;
  /** The next piece of the current blob; valid only during the call. */
  data(bytes: Buffer): void;
  end(): void;
  /** The repository has no such object (a partial clone, a damaged repository). */
  missing(blob: string): void;
}

const NL = 10;

/** Parses `git cat-file --batch` output as it streams, handing each blob's content over in pieces. */
export class CatFileParser {
  private header = "";
  /** Content bytes still to come for the current blob; -1 between blobs. */
  private remaining = -1;
  /** The newline after a blob's content is still to come. */
  private trailer = false;

  constructor(private readonly handler: BlobContentHandler) {}

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.trailer) {
        if (chunk[pos] !== NL) throw new Error("git cat-file output is out of step");
        this.trailer = false;
        pos++;
        continue;
      }
      if (this.remaining >= 0) {
        const take = Math.min(this.remaining, chunk.length - pos);
        if (take > 0) this.handler.data(chunk.subarray(pos, pos + take));
        pos += take;
        this.remaining -= take;
        if (this.remaining === 0) {
          this.remaining = -1;
          this.trailer = true;
          this.handler.end();
        }
        continue;
      }
      const nl = chunk.indexOf(NL, pos);
      if (nl === -1) {
        this.header += chunk.toString("latin1", pos);
        return;
      }
      this.header += chunk.toString("latin1", pos, nl);
      pos = nl + 1;
      this.headerLine(this.header);
      this.header = "";
    }
  }

  private headerLine(line: string): void {
    const [name = "", type = "", size = ""] = line.split(" ");
    if (type === "missing" || type === "ambiguous" || size === "") {
      this.handler.missing(name);
      return;
    }
    const length = Number(size);
    if (!Number.isSafeInteger(length) || length < 0) throw new Error(`git cat-file said "${line}"`);
    this.handler.start(name, length);
    if (length === 0) {
      this.trailer = true;
      this.handler.end();
    } else this.remaining = length;
  }
}
