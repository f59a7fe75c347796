// The one way a live check talks to an issuer: http.ts's send (timeout, no redirects, scrubbed errors), a guard
// that the call goes to the issuer's own origin, and the answers every provider shares: no answer, throttling
// and outages are `unknown`; 401 is `inactive`; the provider module judges the rest.
import {
  describeAnswer,
  type HttpAnswer,
  type HttpSettings,
  pauseMs,
  send,
  TransportError,
} from "../revoke/http.js";
import type { Validity } from "./types.js";

export interface IdentityCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A token goes only to the origin of the issuer's configured base URL. */
export function sameOrigin(url: string, issuerBase: string): boolean {
  try {
    return new URL(url).origin === new URL(issuerBase).origin;
  } catch {
    return false;
  }
}

export async function identityCall(
  issuerBase: string,
  call: IdentityCall,
  settings: HttpSettings,
  secrets: readonly string[],
  judge: (answer: HttpAnswer, description: string) => Validity | undefined,
): Promise<Validity> {
  if (!sameOrigin(call.url, issuerBase))
    return {
      status: "unknown",
      why: `refused to send the token to ${new URL(call.url).origin}: not its issuer`,
    };
  let answer: HttpAnswer;
  try {
    answer = await send(call.method, call.url, { headers: call.headers, body: call.body }, settings, secrets);
  } catch (error) {
    if (error instanceof TransportError) return { status: "unknown", why: `no answer: ${error.message}` };
    throw error;
  }
  const description = describeAnswer(call.method, call.url, answer, secrets);
  if (answer.status === 429) {
    const wait = pauseMs(answer.headers, settings.now());
    return {
      status: "unknown",
      why: `throttled: ${description}${wait !== undefined ? ` (retry after ${Math.ceil(wait / 1000)} s)` : ""}`,
    };
  }
  if (answer.status >= 500) return { status: "unknown", why: `provider error: ${description}` };
  const judged = judge(answer, description);
  if (judged) return judged;
  if (answer.status === 401) return { status: "inactive", detail: description };
  return { status: "unknown", why: `unexpected answer: ${description}` };
}

/** A header value as a list: `X-OAuth-Scopes: repo, gist` → [repo, gist]. */
export function listHeader(answer: HttpAnswer, name: string): string[] | undefined {
  const value = answer.headers.get(name);
  if (value === null) return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
