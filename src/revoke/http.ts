// The one way revocation code talks to a provider: native fetch with a timeout, and answers reduced to what a
// retry decision needs. Error text is scrubbed of the token values involved before it goes anywhere.
import { VERSION } from "../version.js";
import type { AttemptResult, BatchResult, CallSummary } from "./types.js";

export const USER_AGENT = `leakwarden/${VERSION}`;

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
  let body = "";
  try {
    body = await response.text();
  } catch {
    // A body cut short tells us nothing more than the status does.
  }
  return { status: response.status, statusText: response.statusText, headers: response.headers, body };
}

/** The body as JSON, or undefined. */
export function json(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}

/** `Retry-After` in milliseconds: seconds, or an HTTP date. */
export function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** How long a provider wants us to wait: Retry-After, or an exhausted `x-ratelimit-*` budget until its reset. */
export function pauseMs(headers: Headers, nowMs: number): number | undefined {
  const retry = retryAfterMs(headers, nowMs);
  if (retry !== undefined) return retry;
  const remaining = headers.get("x-ratelimit-remaining");
  const reset = headers.get("x-ratelimit-reset");
  if (remaining !== null && Number(remaining) <= 0 && reset !== null && /^\d+$/.test(reset))
    return Math.max(0, Number(reset) * 1000 - nowMs);
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
