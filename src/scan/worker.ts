// A scanning thread: builds its own engine once, then scans the batches of files it is sent.
import { parentPort, workerData } from "node:worker_threads";
import type { BatchReply, BatchRequest, WorkerSettings } from "./pool.js";
import { scanPath } from "./scan-archive.js";
import { createEngine } from "./settings.js";

const settings = workerData as WorkerSettings;
const engine = createEngine(settings);

parentPort?.on("message", async (request: BatchRequest) => {
  try {
    const outcomes: BatchReply["outcomes"] = [];
    for (const file of request.files) {
      for (const outcome of await scanPath(engine, file.path, file.display, settings.archives)) {
        outcomes.push({
          bytes: outcome.bytes,
          ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
          ...(outcome.note ? { note: outcome.note } : {}),
          // Secret objects do not survive structured cloning: the value travels beside the finding, in-process.
          findings: outcome.findings.map(({ secret, ...rest }) => [rest, secret.reveal()]),
        });
      }
    }
    parentPort?.postMessage({ id: request.id, outcomes } satisfies BatchReply);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).message } satisfies BatchReply);
  }
});
