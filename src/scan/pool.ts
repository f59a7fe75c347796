// Fixed pools of scanning threads. WorkerPool hands requests to threads and matches their replies; ScanPool sends
// files in batches (a file may give several outcomes: an archive gives one per entry).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Transferable, Worker } from "node:worker_threads";
import type { ArchiveSettings } from "./scan-archive.js";
import type { SourceOutcome } from "./scan-source.js";
import { Secret } from "./secret.js";
import type { EngineSettings } from "./settings.js";
import type { PublicFinding } from "./types.js";

/** What a scanning thread is started with: plain data. */
export interface WorkerSettings extends EngineSettings {
  archives: ArchiveSettings;
}

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

/** A compiled worker; tests run the TypeScript sources, so they borrow it from dist/ (npm test builds first). */
export function workerFile(name: string): URL {
  const here = new URL(`./${name}`, import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(`../../dist/scan/${name}`, import.meta.url);
}

/**
 * Batches sent to a worker before its previous one is answered: the thread that hands out batches also scans
 * (or reads git's output), and a worker must not sit idle while that thread is busy.
 */
const SLOTS_PER_WORKER = 2;

export class WorkerPool<Request extends { id: number }, Reply extends { id: number; error?: string }> {
  private readonly workers: Worker[] = [];
  /** Free slots: each worker appears once per batch it may still take. */
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private nextId = 0;

  constructor(file: string, workerData: unknown, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(workerFile(file), { workerData });
      worker.unref();
      this.workers.push(worker);
      for (let slot = 0; slot < SLOTS_PER_WORKER; slot++) this.idle.push(worker);
    }
  }

  /** How many batches can be in flight at once. */
  get slots(): number {
    return this.workers.length * SLOTS_PER_WORKER;
  }

  /** Sends a request to a free worker (waiting for one) and resolves with its reply; a reply's error rejects. */
  async request(body: Omit<Request, "id">, transfer: Transferable[] = []): Promise<Reply> {
    const worker = await this.acquire();
    try {
      const reply = await new Promise<Reply>((resolve, reject) => {
        const id = this.nextId++;
        const onMessage = (message: Reply) => {
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
        worker.postMessage({ ...body, id }, transfer);
      });
      if (reply.error !== undefined) throw new Error(reply.error);
      return reply;
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

export class ScanPool {
  private readonly pool: WorkerPool<BatchRequest, BatchReply>;

  constructor(settings: WorkerSettings, size: number) {
    this.pool = new WorkerPool("worker.js", settings, size);
  }

  get slots(): number {
    return this.pool.slots;
  }

  async scan(files: BatchRequest["files"]): Promise<SourceOutcome[]> {
    const reply = await this.pool.request({ files });
    return (reply.outcomes ?? []).map((o) => ({
      bytes: o.bytes,
      ...(o.skipped ? { skipped: o.skipped } : {}),
      ...(o.note ? { note: o.note } : {}),
      findings: o.findings.map(([finding, value]) => ({ ...finding, secret: new Secret(value) })),
    }));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
