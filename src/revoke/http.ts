// The one way revocation code talks to a provider: native fetch with a timeout, and answers reduced to what a
// retry decision needs. Error text is scrubbed of the token values involved before it goes anywhere.
import { VERSION } from "../version.js";
import type { AttemptResult, BatchResult, CallSummary } from "./types.js";

export const USER_AGENT = `leakwarden/${VERSION}`;
/** What is read of an answer: enough for any error message or token, never a provider's whole error page. */
export const MAX_ANSWER_BYTES = 16 * 1024;
/** The longest pause a provider may ask for; a longer or nonsensical one is read as this. */
export const MAX_PAUSE_MS = 60 * 60 * 1000;

export interface HttpSettings {
  timeoutMs: number;
  fetch: typeof fetch;
  /** Wall-clock milliseconds, to read Retry-After dates and rate-limit resets. */
  now: () => number;
}

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: Headers;
  body: string;
}

/** A call that got no answer. `timeout` when our clock ran out. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly timeout: boolean,
  ) {
    super(message);
  }
}

/** Replaces every occurrence of each value with a marker; a provider may echo a token back in an error. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join("[token]");
  return out;
}

export async function send(
  method: string,
  url: string,
  init: { headers: Record<string, string>; body?: string },
  settings: HttpSettings,
  secrets: readonly string[],
): Promise<HttpAnswer> {
  let response: Response;
  try {
    response = await settings.fetch(url, {
      method,
      headers: { "User-Agent": USER_AGENT, ...init.headers },
      body: init.body,
      redirect: "error",
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
  } catch (error) {
    // Usually a TypeError whose cause has the code; an interceptor may reject with a bare { code }.
    const err = (error ?? {}) as {
      name?: string;
      message?: string;
      code?: string;
      cause?: { code?: string; message?: string };
    };
    if (err.name === "TimeoutError" || err.name === "AbortError")
      throw new TransportError(`${method} ${url}: no answer within ${settings.timeoutMs} ms`, true);
    const cause = err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? "the connection failed";
    throw new TransportError(scrub(`${method} ${url}: ${cause}`, secrets), false);
  }
  const body = await readCapped(response, MAX_ANSWER_BYTES);
  return { status: response.status, statusText: response.statusText, headers: response.headers, body };
}

/** The first `max` bytes of an answer's body; the rest is never read (the connection is dropped). */
async function readCapped(response: Response, max: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut short tells us nothing more than the status does.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString("utf8");
}

/** The body as JSON, or undefined. */
export function json(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}

/** A wait asked for by a provider, clamped to [0, MAX_PAUSE_MS]; undefined when it is not a number at all. */
function clampPause(ms: number): number | undefined {
  if (Number.isNaN(ms)) return undefined;
  return Math.min(MAX_PAUSE_MS, Math.max(0, ms));
}

/** `Retry-After` in milliseconds: seconds, or an HTTP date; at most an hour, whatever the header says. */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return clampPause(Number(value) * 1000);
  // Only a date with a day or month name: Date.parse also takes "1.5" or "-3" and makes a date of it.
  if (!/[A-Za-z]{3}/.test(value)) return undefined;
  return clampPause(Date.parse(value) - nowMs);
}

/** How long a provider wants us to wait: Retry-After, or an exhausted `x-ratelimit-*` budget until its reset. */
export function pauseMs(headers: Headers, nowMs: number): number | undefined {
  const retry = retryAfterMs(headers, nowMs);
  if (retry !== undefined) return retry;
  const remaining = headers.get("x-ratelimit-remaining");
  const reset = headers.get("x-ratelimit-reset")?.trim();
  if (remaining !== null && Number(remaining) <= 0 && reset !== undefined && /^\d+$/.test(reset))
    return clampPause(Number(reset) * 1000 - nowMs);
  return undefined;
}

/** A short, scrubbed account of an answer for logs and the audit trail. */
export function describeAnswer(method: string, url: string, answer: HttpAnswer, secrets: readonly string[]) {
  const parsed = json(answer) as { message?: unknown; error?: unknown; errorCode?: unknown } | undefined;
  const said = parsed?.message ?? parsed?.error ?? "";
  const detail = typeof said === "string" && said ? `: ${said.slice(0, 200)}` : "";
  return scrub(`${method} ${url} answered ${answer.status} ${answer.statusText}${detail}`.trim(), secrets);
}

/**
 * What most providers' answers mean for a retry: 429 and 5xx are worth retrying (after Retry-After when given),
 * a 403 with an exhausted rate limit too. Undefined when the provider module must decide.
 */
export function transientOutcome(
  answer: HttpAnswer,
  description: string,
  nowMs: number,
): AttemptResult | undefined {
  const wait = pauseMs(answer.headers, nowMs);
  if (answer.status === 429 || answer.status === 408 || answer.status >= 500)
    return { kind: "retry", error: description, retryAfterMs: wait };
  if (answer.status === 403 && wait !== undefined)
    return { kind: "retry", error: description, retryAfterMs: wait };
  return undefined;
}

/**
 * Makes one call for a batch of targets and judges the answer. A call that got no answer is a retry for every
 * target; a provider's request to slow down (Retry-After, exhausted rate limit) comes back as `pauseMs`.
 */
export async function exchange(
  call: CallSummary,
  init: { headers: Record<string, string>; body?: string },
  settings: HttpSettings,
  secrets: readonly string[],
  count: number,
  judge: (answer: HttpAnswer, description: string, nowMs: number) => AttemptResult[],
): Promise<BatchResult> {
  let answer: HttpAnswer;
  try {
    answer = await send(call.method, call.url, init, settings, secrets);
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    return { call, results: Array.from({ length: count }, () => ({ kind: "retry", error: error.message })) };
  }
  const now = settings.now();
  const description = describeAnswer(call.method, call.url, answer, secrets);
  return {
    call: { ...call, status: answer.status },
    results: judge(answer, description, now),
    pauseMs: pauseMs(answer.headers, now),
  };
}
