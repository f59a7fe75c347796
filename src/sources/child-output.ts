// What a git child says besides its output: the start of its stderr, for an error message, and its exit code.
import type { ChildProcess } from "node:child_process";

/** The first 16 KB of a stream, as text, for an error message. */
export function collect(stream: NodeJS.ReadableStream): () => string {
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (piece: string) => {
    if (text.length < 16 * 1024) text += piece;
  });
  return () => text;
}

/** The child's exit code (1 when a signal ended it); rejects when it could not be started or was aborted. */
export function exitOf(child: ChildProcess): Promise<number> {
  const exit = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code ?? 1));
  });
  exit.catch(() => {}); // awaited by the caller; a spawn failure must not also be an unhandled rejection
  return exit;
}
