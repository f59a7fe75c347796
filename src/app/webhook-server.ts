// The App's HTTP server. Webhook requests are hostile until verified: the body is capped before it is buffered
// (GitHub sends at most 25 MB), the signature is checked before anything is parsed, and no answer or log line
// ever carries the payload (a commit message or a log can hold a token). Answers say only their status.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Probot } from "probot";
import { payloadProblem } from "./webhook-payloads.js";

/** GitHub caps webhook payloads at 25 MB; anything larger did not come from GitHub. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export interface WebhookServerOptions {
  probot: Probot;
  path: string;
  maxBytes?: number;
  /** Other routes (GET /healthz); true when one answered. */
  routes: (req: IncomingMessage, res: ServerResponse) => boolean;
}

const REASONS: Record<number, string> = {
  200: "ok",
  400: "bad request",
  401: "signature does not match",
  404: "not found",
  413: "payload too large",
  415: "unsupported media type",
  500: "internal error",
};

function answer(res: ServerResponse, status: number, close = false): void {
  if (res.headersSent) return;
  const body = `${REASONS[status] ?? ""}\n`;
  res.writeHead(status, {
    "content-type": "text/plain",
    "content-length": Buffer.byteLength(body),
    ...(close ? { connection: "close" } : {}),
  });
  res.end(body);
}

/** How long a refused sender may go on sending (discarded) while it reads the 413, before it is cut off. */
const REFUSED_GRACE_MS = 2_000;

/**
 * Answers 413 (keeping the connection open: a "Connection: close" answer lets Node close it at once) and drops
 * the rest of the body unread into memory. The connection is cut a little later: cut at
 * once, a client still sending gets a reset and may never see the answer.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  answer(res, 413);
  req.removeAllListeners("data");
  req.resume();
  setTimeout(() => req.destroy(), REFUSED_GRACE_MS).unref();
}

/** The body, or null once it passed `maxBytes` (then the request is answered 413 and dropped). */
function readBodyUnder(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<string | null> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) {
    refuseTooLarge(req, res);
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      chunks.length = 0;
      refuseTooLarge(req, res);
      resolve(null);
    });
    req.on("end", () => resolve(size > maxBytes ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

async function handleWebhook(
  req: IncomingMessage,
  res: ServerResponse,
  options: WebhookServerOptions,
): Promise<void> {
  const { probot } = options;
  if (!/^\s*application\/json\s*(?:;|$)/.test(header(req, "content-type") ?? "")) return answer(res, 415);
  const name = header(req, "x-github-event");
  const id = header(req, "x-github-delivery");
  const signature = header(req, "x-hub-signature-256");
  if (!name || !id || !signature) return answer(res, 400);
  const body = await readBodyUnder(req, res, options.maxBytes ?? MAX_WEBHOOK_BYTES);
  if (body === null) {
    probot.log.warn({ delivery: id }, "webhook refused: larger than the limit");
    return;
  }
  const verified = await probot.webhooks.verify(body, signature).catch(() => false);
  if (!verified) {
    probot.log.warn(
      { delivery: id, event: name },
      "webhook refused: the signature does not match WEBHOOK_SECRET",
    );
    return answer(res, 401);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return answer(res, 400);
  }
  const problem = payloadProblem(name, payload);
  if (problem) {
    probot.log.warn({ delivery: id, event: name }, `webhook refused: ${problem} is missing or malformed`);
    return answer(res, 400);
  }
  try {
    // Not probot.receive: at debug level it logs the whole event.
    await probot.webhooks.receive({ id, name, payload } as Parameters<typeof probot.webhooks.receive>[0]);
  } catch {
    // Probot's error handler has logged it (message and delivery id, not the payload).
    return answer(res, 500);
  }
  answer(res, 200);
}

export function createWebhookServer(options: WebhookServerOptions): Server {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]?.replace(/\/+$/, "");
    if (path === options.path && req.method === "POST") {
      handleWebhook(req, res, options).catch((error: Error) => {
        options.probot.log.error(`webhook handling failed: ${error.message}`);
        answer(res, 500, true);
      });
      return;
    }
    if (options.routes(req, res)) return;
    answer(res, 404);
  });
  // A slow sender cannot hold a connection (and its buffer) for long.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  return server;
}
