// A child's standard output read through a temporary file. Through a pipe or a socket, git can write only as
// far as the kernel's buffer (a few hundred KB) ahead of the reader: while Node checks a blob, git blocks, and
// while git inflates one, Node waits, so neither keeps its core busy. A file lets git run ahead, and Node reads
// it in large pieces into one reused buffer, with a fraction of the system calls. The file is unlinked as soon
// as both ends are open, so nothing is left behind whatever happens to the process.
import { randomBytes } from "node:crypto";
import { close, closeSync, openSync, readSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Bytes read at most at once. */
const READ_SIZE = 1024 * 1024;
/** Wait before looking again once the reader has caught up with the child: short, git is usually just behind. */
const CAUGHT_UP_MS = 1;
/** After this many looks in a row found nothing (git busy with a large object), look less often. */
const PATIENT_AFTER = 50;
const PATIENT_MS = 10;

export interface FileOutput {
  /** The descriptor to give the child as its stdout (`stdio: [..., writer, ...]`). */
  writer: number;
  /** The folder the file was made in (the temporary folder), for an error message. */
  folder: string;
  /**
   * Call once the child is spawned with `writer`: closes this process's copy of it, and reads once `after`
   * resolves (output that must come after another's; if it rejects, nothing is read and `ended` rejects too),
   * until the child has `exited` and all it wrote was read.
   */
  start(exited: Promise<unknown>, after?: Promise<unknown>): void;
  /** Settles once everything the child wrote has been handed to `onData`, or rejects when reading failed. */
  ended: Promise<void>;
  /** Bytes handed to `onData` so far. */
  readonly delivered: number;
  /** Stops reading and closes the file. */
  close(): void;
}

/**
 * A temporary file through which what the child writes reaches `onData`, as a view of a reused buffer that is
 * valid only during the call. Undefined where no temporary file can be made and unlinked while open (a
 * read-only temporary folder; Windows, which does not unlink open files): read a pipe instead.
 */
export function fileOutput(onData: (bytes: Buffer) => void): FileOutput | undefined {
  const folder = tmpdir();
  const opened = openUnlinked(folder);
  if (!opened) return undefined;
  const { writer, reader } = opened;
  const buffer = Buffer.allocUnsafe(READ_SIZE);
  let writerOpen = true;
  let exited = false;
  let closed = false;
  let emptyLooks = 0;
  let timer: NodeJS.Timeout | undefined;
  let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const ended = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  ended.catch(() => {}); // awaited by the caller, after the child's own exit

  const closeWriter = () => {
    if (!writerOpen) return;
    writerOpen = false;
    closeSync(writer);
  };
  const finish = (error?: unknown) => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    closeWriter();
    // Closed on the thread pool: the last close of an unlinked file frees all it held, which took 20 ms of
    // this thread for the 200 MB of a large history.
    close(reader, () => {});
    if (error === undefined) settle?.resolve();
    else settle?.reject(error);
  };
  const pump = () => {
    timer = undefined;
    if (closed) return;
    try {
      // Whether the child had exited is taken before the read: a read that then finds nothing found the end.
      const done = exited;
      const size = readSync(reader, buffer, 0, READ_SIZE, null);
      if (size > 0) {
        output.delivered += size;
        emptyLooks = 0;
        onData(buffer.subarray(0, size));
        setImmediate(pump); // other events (the walk, other readers) have their turn between pieces
      } else if (done) {
        finish();
      } else {
        emptyLooks++;
        timer = setTimeout(pump, emptyLooks > PATIENT_AFTER ? PATIENT_MS : CAUGHT_UP_MS);
      }
    } catch (error) {
      finish(error);
    }
  };

  const output = {
    writer,
    folder,
    delivered: 0,
    ended,
    start(childExited: Promise<unknown>, after: Promise<unknown> = Promise.resolve()) {
      closeWriter();
      const onExit = () => {
        exited = true;
      };
      childExited.then(onExit, onExit);
      after.then(
        () => {
          if (!closed) pump();
        },
        (error) => finish(error),
      );
    },
    close: () => finish(),
  };
  return output;
}

/** A new file in `folder`, opened for writing and for reading, and already unlinked. */
function openUnlinked(folder: string): { writer: number; reader: number } | undefined {
  const path = join(folder, `leakwarden-${process.pid}-${randomBytes(8).toString("hex")}.out`);
  let writer: number | undefined;
  try {
    writer = openSync(path, "wx", 0o600);
    const reader = openSync(path, "r");
    try {
      unlinkSync(path);
    } catch (error) {
      closeSync(reader);
      throw error;
    }
    return { writer, reader };
  } catch {
    if (writer !== undefined) {
      closeSync(writer);
      try {
        unlinkSync(path);
      } catch {
        // already gone, or never made
      }
    }
    return undefined;
  }
}
