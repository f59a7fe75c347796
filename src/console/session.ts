// Console sessions: a signed cookie (HMAC-SHA256) that holds who signed in, when it expires, and the CSRF
// token every form must echo. Nothing is kept on the server, so the key is all that must stay private.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const SESSION_COOKIE = "leakwarden_session";
export const DEFAULT_SESSION_MS = 8 * 3600_000;

export interface Session {
  login: string;
  /** Epoch milliseconds. */
  expires: number;
  csrf: string;
}

export interface CookieOptions {
  /** Secure cookies, except for plain-http localhost where a browser would drop them. */
  secure: boolean;
  path: string;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** Compares two strings in time that does not depend on where they differ. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) cookies.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return cookies;
}

export function cookieHeader(
  name: string,
  value: string,
  options: CookieOptions & { maxAgeSeconds: number },
): string {
  return [
    `${name}=${value}`,
    `Path=${options.path}`,
    `Max-Age=${options.maxAgeSeconds}`,
    "HttpOnly",
    // Lax: the OAuth callback is a top-level navigation from GitHub and must carry the state cookie.
    "SameSite=Lax",
    ...(options.secure ? ["Secure"] : []),
  ].join("; ");
}

export class SessionSigner {
  constructor(
    private readonly key: Buffer,
    private readonly clock: () => number = Date.now,
    private readonly lifetimeMs = DEFAULT_SESSION_MS,
  ) {}

  private mac(payload: string): string {
    return createHmac("sha256", this.key).update(payload).digest("base64url");
  }

  issue(login: string): { value: string; session: Session; maxAgeSeconds: number } {
    const session: Session = { login, expires: this.clock() + this.lifetimeMs, csrf: randomToken() };
    const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
    return {
      value: `${payload}.${this.mac(payload)}`,
      session,
      maxAgeSeconds: Math.floor(this.lifetimeMs / 1000),
    };
  }

  /** The session a cookie holds, if its signature is ours and it has not expired. */
  verify(value: string | undefined): Session | undefined {
    if (!value) return undefined;
    const [payload, mac] = value.split(".");
    if (!payload || !mac || !sameText(mac, this.mac(payload))) return undefined;
    try {
      const session = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Session;
      if (typeof session.login !== "string" || typeof session.csrf !== "string") return undefined;
      return session.expires > this.clock() ? session : undefined;
    } catch {
      return undefined;
    }
  }
}
