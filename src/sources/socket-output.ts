// A child's standard output read into one reused buffer. Read the usual way, a pipe hands over each piece in a
// freshly allocated buffer; for the 200 MB of blobs a history scan reads, those allocations (and the page faults
// behind them, dear on a virtual machine) cost Node more than git spends writing the bytes. A UNIX socket read
// with `onread` lands every piece in the same buffer. Where such a socket cannot be made (Windows, no writable
// temporary folder), the caller reads a plain pipe instead.
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Bytes read at most at once. */
const READ_SIZE = 256 * 1024;

export interface SocketOutput {
  /** Given to the child as its stdout (`stdio: [..., writer, ...]`), then closed here. */
  writer: Socket;
  /** Settles once everything the child wrote has been handed to `onData`. */
  ended: Promise<void>;
  /** Stops reading. */
  close(): void;
}

/**
 * A connected socket pair: what is written into `writer` reaches `onData`, a view of a reused buffer that is
 * valid only during the call. Undefined where UNIX sockets cannot be used here.
 */
export async function socketOutput(onData: (bytes: Buffer) => void): Promise<SocketOutput | undefined> {
  if (process.platform === "win32") return undefined;
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), "leakwarden-"));
  } catch {
    return undefined;
  }
  const server = createServer();
  try {
    const path = join(dir, "out");
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, resolve);
    });
    const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    const reader = connect({
      path,
      onread: {
        buffer,
        callback: (size) => {
          onData(buffer.subarray(0, size));
          return true;
        },
      },
    });
    await new Promise<void>((resolve, reject) => {
      reader.once("error", reject);
      reader.once("connect", resolve);
    });
    const writer = await accepted;
    const ended = new Promise<void>((resolve, reject) => {
      reader.once("end", resolve);
      reader.once("error", reject);
    });
    ended.catch(() => {}); // awaited by the caller, after the child's own exit
    reader.on("error", () => {}); // reported through `ended`
    return { writer, ended, close: () => reader.destroy() };
  } catch {
    return undefined;
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
