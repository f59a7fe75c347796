// A history-scan lane run on a worker thread (blob-worker.ts), with the same face as a BlobReader on the
// calling thread: asks go in, verdicts come back through the sink, `end` gives the lane's counts.
import { Worker } from "node:worker_threads";
import type { GitRepository } from "../sources/git.js";
import type { BlobAsk, LaneCounts, LaneSettings, VerdictSink } from "./blob-reader.js";
import { workerFile } from "./pool.js";
import type { EngineSettings } from "./settings.js";

export interface LaneThreadData {
  dir: string;
  env: Record<string, string>;
  engineSettings: EngineSettings;
  lane: LaneSettings;
}

export type LaneRequest = { type: "ask"; asks: readonly BlobAsk[] } | { type: "end" } | { type: "close" };

export type LaneReply =
  | { type: "verdicts"; keys: number[]; dirty: number[]; bytes: number }
  | { type: "done"; counts: LaneCounts }
  | { type: "error"; command?: string; output?: string; message?: string };

export class BlobLaneThread {
  private readonly worker: Worker;
  private readonly done: Promise<LaneCounts>;
  bytesRead = 0;
  private closing = false;

  constructor(
    repo: GitRepository,
    engineSettings: EngineSettings,
    lane: LaneSettings,
    verdict: VerdictSink,
    fail: (error: unknown) => void,
  ) {
    this.worker = new Worker(workerFile("blob-worker.js"), {
      workerData: { dir: repo.dir, env: repo.env, engineSettings, lane } satisfies LaneThreadData,
    });
    let settled = false;
    this.done = new Promise<LaneCounts>((resolve, reject) => {
      this.worker.on("message", (reply: LaneReply) => {
        if (reply.type === "verdicts") {
          this.bytesRead = reply.bytes;
          try {
            reply.keys.forEach((key, i) => {
              verdict(key, reply.dirty[i] === 1, true);
            });
          } catch (error) {
            fail(error);
          }
        } else if (reply.type === "done") {
          settled = true;
          resolve(reply.counts);
        } else {
          const error =
            reply.command !== undefined
              ? repo.failure(reply.command, reply.output ?? "")
              : new Error(reply.message ?? "a blob-checking thread failed");
          reject(error);
          fail(error);
        }
      });
      this.worker.once("error", (error) => {
        reject(error);
        fail(error);
      });
      this.worker.once("exit", () => {
        if (settled || this.closing) return;
        const error = new Error("a blob-checking thread stopped");
        reject(error);
        fail(error);
      });
    });
    this.done.catch(() => {}); // awaited by end(); a failure also reaches `fail`
  }

  ask(asks: readonly BlobAsk[]): void {
    this.post({ type: "ask", asks });
  }

  end(): Promise<LaneCounts> {
    this.post({ type: "end" });
    return this.done;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.post({ type: "close" });
    await this.worker.terminate();
  }

  private post(request: LaneRequest): void {
    this.worker.postMessage(request);
  }
}
