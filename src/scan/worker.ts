// A scanning thread: builds its own engine once, then scans the batches of files it is sent.
import { parentPort, workerData } from "node:worker_threads";
import type { BatchReply, BatchRequest } from "./pool.js";
import { scanFile } from "./scan-source.js";
import { createEngine, type EngineSettings } from "./settings.js";

const engine = createEngine(workerData as EngineSettings);

parentPort?.on("message", async (request: BatchRequest) => {
  try {
    const outcomes: BatchReply["outcomes"] = [];
    for (const file of request.files) {
      const outcome = await scanFile(engine, file.path, file.display);
      outcomes.push({
        bytes: outcome.bytes,
        ...(outcome.skipped ? { skipped: outcome.skipped } : {}),
        // Secret objects do not survive structured cloning: the value travels beside the finding, in-process.
        findings: outcome.findings.map(({ secret, ...rest }) => [rest, secret.reveal()]),
      });
    }
    parentPort?.postMessage({ id: request.id, outcomes } satisfies BatchReply);
  } catch (error) {
    parentPort?.postMessage({ id: request.id, error: (error as Error).message } satisfies BatchReply);
  }
});
