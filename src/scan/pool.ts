// A fixed pool of scanning threads; files are sent in batches to keep messaging cheap. A file may give several
// outcomes (an archive gives one per entry).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { ArchiveSettings } from "./scan-archive.js";
import type { SourceOutcome } from "./scan-source.js";
import { Secret } from "./secret.js";
import type { EngineSettings } from "./settings.js";

/** What a scanning thread is started with: plain data. */
export interface WorkerSettings extends EngineSettings {
  archives: ArchiveSettings;
}

import type { PublicFinding } from "./types.js";

export interface BatchRequest {
  id: number;
  files: { path: string; display: string; size?: number }[];
}

export interface BatchReply {
  id: number;
  outcomes?: {
    bytes: number;
    skipped?: SourceOutcome["skipped"];
    note?: string;
    findings: [PublicFinding, string][];
  }[];
  error?: string;
}

/** The compiled worker; tests run the TypeScript sources, so they borrow it from dist/ (npm test builds first). */
function workerFile(): URL {
  const here = new URL("./worker.js", import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL("../../dist/scan/worker.js", import.meta.url);
}

/**
 * Batches sent to a worker before its previous one is answered: the thread that hands out batches also scans,
 * and a worker must not sit idle while that thread is busy.
 */
const SLOTS_PER_WORKER = 2;

export class ScanPool {
  private readonly workers: Worker[] = [];
  /** Free slots: each worker appears once per batch it may still take. */
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private nextId = 0;

  constructor(settings: WorkerSettings, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(workerFile(), { workerData: settings });
      worker.unref();
      this.workers.push(worker);
      for (let slot = 0; slot < SLOTS_PER_WORKER; slot++) this.idle.push(worker);
    }
  }

  /** How many batches can be in flight at once. */
  get slots(): number {
    return this.workers.length * SLOTS_PER_WORKER;
  }

  async scan(files: BatchRequest["files"]): Promise<SourceOutcome[]> {
    const worker = await this.acquire();
    try {
      const reply = await new Promise<BatchReply>((resolve, reject) => {
        const id = this.nextId++;
        const onMessage = (message: BatchReply) => {
          if (message.id !== id) return;
          cleanup();
          resolve(message);
        };
        const onError = (error: Error) => {
          cleanup();
          reject(error);
        };
        const cleanup = () => {
          worker.off("message", onMessage);
          worker.off("error", onError);
        };
        worker.on("message", onMessage);
        worker.on("error", onError);
        worker.postMessage({ id, files } satisfies BatchRequest);
      });
      if (reply.error !== undefined) throw new Error(reply.error);
      return (reply.outcomes ?? []).map((o) => ({
        bytes: o.bytes,
        ...(o.skipped ? { skipped: o.skipped } : {}),
        ...(o.note ? { note: o.note } : {}),
        findings: o.findings.map(([finding, value]) => ({ ...finding, secret: new Secret(value) })),
      }));
    } finally {
      this.release(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    return new Promise((resolve) => this.waiting.push(() => resolve(this.idle.pop() as Worker)));
  }

  private release(worker: Worker): void {
    this.idle.push(worker);
    this.waiting.shift()?.();
  }
}
