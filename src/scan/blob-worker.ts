// A blob-checking thread: builds its own engine once, then answers, for each batch of blobs it is handed,
// which of them hold a detection. No finding and no secret leaves the thread: only the verdicts.
import { parentPort, workerData } from "node:worker_threads";
import { checkBatch } from "./blob-check.js";
import type { BlobBatchReply, BlobBatchRequest } from "./pool.js";
import { createEngine, type EngineSettings } from "./settings.js";

const engine = createEngine(workerData as EngineSettings);

parentPort?.on("message", (request: BlobBatchRequest) => {
  try {
    const verdicts = checkBatch(engine, Buffer.from(request.buffer), request.items);
    parentPort?.postMessage({ id: request.id, verdicts } satisfies BlobBatchReply, [
      verdicts.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).message } satisfies BlobBatchReply);
  }
});
