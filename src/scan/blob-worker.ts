// A history-scan lane on its own thread (see blob-lane-thread.ts): its own engine and its own
// `git cat-file --batch`, so reading and checking blobs run on every core. Only keys and verdicts leave the
// thread: no finding and no secret.
import { parentPort, workerData } from "node:worker_threads";
import { GitRepository } from "../sources/git.js";
import type { LaneReply, LaneRequest, LaneThreadData } from "./blob-lane-thread.js";
import { BlobReader } from "./blob-reader.js";
import { createEngine } from "./settings.js";

const data = workerData as LaneThreadData;
const engine = createEngine(data.engineSettings);
const post = (reply: LaneReply) => parentPort?.postMessage(reply);

/** A git failure crosses to the calling thread as its command and output: that thread words the error. */
class GitFailure extends Error {
  constructor(
    readonly command: string,
    readonly output: string,
  ) {
    super(output);
  }
}

/** Verdicts go back in groups: when this many are waiting, or when nothing more is being read. */
const GROUP = 256;
let keys: number[] = [];
let dirty: number[] = [];
function flush(): void {
  if (keys.length === 0) return;
  post({ type: "verdicts", keys, dirty, bytes: reader.counts.bytes });
  keys = [];
  dirty = [];
}

function failed(error: unknown): void {
  reader.close();
  if (error instanceof GitFailure) post({ type: "error", command: error.command, output: error.output });
  else post({ type: "error", message: (error as Error).message ?? String(error) });
}

const reader = new BlobReader(
  GitRepository.prepare(data.dir, data.env),
  engine,
  data.lane,
  (key, holds, more) => {
    keys.push(key);
    dirty.push(holds ? 1 : 0);
    if (!more || keys.length >= GROUP) flush();
  },
  failed,
  (command, output) => new GitFailure(command, output),
);

parentPort?.on("message", (request: LaneRequest) => {
  if (request.type === "ask") reader.ask(request.asks);
  else if (request.type === "close") reader.close();
  else
    reader.end().then((counts) => {
      flush();
      post({ type: "done", counts });
    }, failed);
});
