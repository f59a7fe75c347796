// The console's HTTP handler: one function that `leakwarden console` runs on its own server and that
// `leakwarden serve` mounts under /console. Every page needs a session; every POST needs the session's CSRF
// token; every response carries a strict Content Security Policy. State changes go through the triage
// functions (src/revoke/triage.ts), which audit them with the signed-in login.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { UserError } from "../errors.js";
import {
  getFinding,
  reopenFinding,
  requestRevocation,
  resolveFinding,
  TriageError,
} from "../revoke/triage.js";
import type { RevokerSet } from "../revoke/types.js";
import type { Rule } from "../scan/rules.js";
import { RESOLUTIONS, type Resolution } from "../store/findings.js";
import type { Store } from "../store/index.js";
import type { GitHubOAuth } from "./github-oauth.js";
import { html } from "./html.js";
import { type Frame, page } from "./layout.js";
import { auditPage } from "./pages/audit.js";
import { findingPage } from "./pages/finding.js";
import { exportCsv, exportJson, findingsPage, parseFindingsQuery } from "./pages/findings.js";
import { overviewPage } from "./pages/overview.js";
import { registryPage } from "./pages/registry.js";
import {
  cookieHeader,
  randomToken,
  readCookies,
  SESSION_COOKIE,
  type Session,
  SessionSigner,
  sameText,
} from "./session.js";

export const CONSOLE_PATH = "/console";
const STATE_COOKIE = "leakwarden_oauth_state";
const MAX_FORM_BYTES = 16 * 1024;

/** What a route returns once it has answered. */
type Sent = true;

/** How people sign in: a one-time token printed by `leakwarden console`, or GitHub (serve). */
export type SignIn = { kind: "token"; token: string; login: string } | { kind: "github"; oauth: GitHubOAuth };

export interface ConsoleOptions {
  store: Store;
  signIn: SignIn;
  revokers: RevokerSet;
  rules: readonly Rule[];
  /** Signs session cookies; random per process unless given. */
  sessionKey: Buffer;
  /** Secure cookies; false only for plain-http localhost. */
  secureCookies: boolean;
  /** The console's public address for the OAuth callback (default: from the request's Host). */
  publicUrl?: string;
  /** Where links to code point (GitHub's web address). */
  webUrl?: string;
  /** Wakes the revocation worker after a revocation was queued. */
  revocationsQueued?: () => void;
  clock?: () => number;
}

const ASSETS = new URL("../../assets/console/", import.meta.url);
const ASSET_TYPES: Record<string, string> = {
  "console.css": "text/css; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
};

function securityHeaders(): Record<string, string> {
  return {
    "content-security-policy":
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    // The one-time sign-in URL and leak-check hashes must not travel in a Referer.
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/x-www-form-urlencoded"))
    throw new HttpError(415, "forms are sent as application/x-www-form-urlencoded");
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, "the form is too large");
    parts.push(part as Buffer);
  }
  return new URLSearchParams(Buffer.concat(parts).toString("utf8"));
}

export class ConsoleServer {
  private readonly signer: SessionSigner;
  private readonly assets = new Map<string, Buffer>();
  /** The one-time token, until it is used. */
  private pendingToken: string | undefined;

  constructor(private readonly options: ConsoleOptions) {
    this.signer = new SessionSigner(options.sessionKey, options.clock);
    if (options.signIn.kind === "token") this.pendingToken = options.signIn.token;
    for (const name of Object.keys(ASSET_TYPES))
      this.assets.set(name, readFileSync(fileURLToPath(new URL(name, ASSETS))));
  }

  private get store(): Store {
    return this.options.store;
  }

  /** Takes a request under /console and answers it (asynchronously); false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? "/", "http://console.invalid");
    if (url.pathname !== CONSOLE_PATH && !url.pathname.startsWith(`${CONSOLE_PATH}/`)) return false;
    void this.respond(req, res, url);
    return true;
  }

  private async respond(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice(CONSOLE_PATH.length) || "/";
    try {
      await this.route(req, res, path, url);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : error instanceof UserError ? 409 : 500;
      const message =
        error instanceof HttpError || error instanceof UserError ? error.message : "internal error";
      if (!res.headersSent)
        this.send(res, status, page("Error", { base: CONSOLE_PATH }, html`<p class="error">${message}</p>`));
      else res.end();
    }
  }

  private send(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string | string[]> = {},
  ) {
    res.writeHead(status, { ...securityHeaders(), "content-type": "text/html; charset=utf-8", ...headers });
    res.end(body);
    return true as const;
  }

  private redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}) {
    res.writeHead(303, { ...securityHeaders(), location, ...headers });
    res.end();
    return true as const;
  }

  private cookie(name: string, value: string, maxAgeSeconds: number): string {
    return cookieHeader(name, value, {
      secure: this.options.secureCookies,
      path: CONSOLE_PATH,
      maxAgeSeconds,
    });
  }

  private session(req: IncomingMessage): Session | undefined {
    return this.signer.verify(readCookies(req).get(SESSION_COOKIE));
  }

  private async startSession(
    res: ServerResponse,
    login: string,
    detail: Record<string, unknown>,
  ): Promise<Sent> {
    const issued = this.signer.issue(login);
    await this.store.audit.record({
      action: "console.signin",
      actor: login,
      subject: `user:${login}`,
      detail,
    });
    return this.redirect(res, `${CONSOLE_PATH}/`, {
      "set-cookie": [
        this.cookie(SESSION_COOKIE, issued.value, issued.maxAgeSeconds),
        this.cookie(STATE_COOKIE, "", 0),
      ],
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<Sent> {
    const method = req.method ?? "GET";
    if (method === "GET" && path.startsWith("/assets/"))
      return this.asset(res, path.slice("/assets/".length));
    if (method === "GET" && path === "/login") return this.login(req, res, url);
    if (method === "GET" && path === "/oauth/start") return this.oauthStart(req, res);
    if (method === "GET" && path === "/oauth/callback") return this.oauthCallback(req, res, url);

    const session = this.session(req);
    if (!session) {
      if (method === "GET") return this.redirect(res, `${CONSOLE_PATH}/login`);
      throw new HttpError(403, "sign in first");
    }
    if (method === "POST") return this.post(req, res, path, session);
    if (method !== "GET") throw new HttpError(405, "only GET and POST");
    return this.get(res, path, url, session);
  }

  private asset(res: ServerResponse, name: string): Sent {
    const body = this.assets.get(name);
    if (!body) throw new HttpError(404, "no such file");
    res.writeHead(200, {
      ...securityHeaders(),
      "content-type": ASSET_TYPES[name] as string,
      "cache-control": "public, max-age=3600",
    });
    res.end(body);
    return true as const;
  }

  private async login(req: IncomingMessage, res: ServerResponse, url: URL): Promise<Sent> {
    const { signIn } = this.options;
    if (signIn.kind === "token") {
      const given = url.searchParams.get("token");
      if (given && this.pendingToken && sameText(given, this.pendingToken)) {
        this.pendingToken = undefined; // one use only: a URL that leaked afterwards opens nothing
        return this.startSession(res, signIn.login, { via: "one-time token" });
      }
      if (this.session(req)) return this.redirect(res, `${CONSOLE_PATH}/`);
      return this.send(
        res,
        given ? 403 : 200,
        page(
          "Sign in",
          { base: CONSOLE_PATH },
          html`<p>${given ? "That sign-in link was already used or is wrong. " : ""}Open the one-time link that <code>leakwarden console</code> printed; restart it for a new one.</p>`,
        ),
      );
    }
    return this.send(
      res,
      200,
      page(
        "Sign in",
        { base: CONSOLE_PATH },
        html`<p>The console is open to the security teams and to owners of the organisations where leakwarden is installed.</p>
<p><a class="button" href="${CONSOLE_PATH}/oauth/start">Sign in with GitHub</a></p>`,
      ),
    );
  }

  private callbackUrl(req: IncomingMessage): string {
    const base =
      this.options.publicUrl ??
      `${this.options.secureCookies ? "https" : "http"}://${req.headers.host ?? "localhost"}${CONSOLE_PATH}`;
    return `${base.replace(/\/$/, "")}/oauth/callback`;
  }

  private oauthStart(req: IncomingMessage, res: ServerResponse): Sent {
    const { signIn } = this.options;
    if (signIn.kind !== "github") throw new HttpError(404, "GitHub sign-in is not configured");
    const state = randomToken();
    return this.redirect(res, signIn.oauth.authorizeUrl(state, this.callbackUrl(req)), {
      "set-cookie": this.cookie(STATE_COOKIE, state, 600),
    });
  }

  private async oauthCallback(req: IncomingMessage, res: ServerResponse, url: URL): Promise<Sent> {
    const { signIn } = this.options;
    if (signIn.kind !== "github") throw new HttpError(404, "GitHub sign-in is not configured");
    const state = readCookies(req).get(STATE_COOKIE);
    const given = url.searchParams.get("state");
    const code = url.searchParams.get("code");
    if (!state || !given || !sameText(state, given) || !code)
      throw new HttpError(400, "the sign-in did not start here or took too long; sign in again");
    const token = await signIn.oauth.exchange(code, this.callbackUrl(req));
    const login = await signIn.oauth.login(token);
    const access = await signIn.oauth.access(token, login);
    if (!access.allowed) {
      await this.store.audit.record({
        action: "console.denied",
        actor: login,
        subject: `user:${login}`,
        detail: { reason: access.reason },
      });
      return this.send(
        res,
        403,
        page("Access denied", { base: CONSOLE_PATH }, html`<p class="error">${login}: ${access.reason}.</p>`),
        { "set-cookie": this.cookie(STATE_COOKIE, "", 0) },
      );
    }
    return this.startSession(res, login, { via: access.via });
  }

  private async get(res: ServerResponse, path: string, url: URL, session: Session): Promise<Sent> {
    const base = CONSOLE_PATH;
    const frame = (current: Frame["current"]): Frame => ({ base, session, current });
    if (path === "/")
      return this.send(res, 200, page("Overview", frame("overview"), await overviewPage(this.store, base)));
    if (path === "/findings")
      return this.send(
        res,
        200,
        page(
          "Findings",
          frame("findings"),
          await findingsPage(this.store, base, parseFindingsQuery(url.searchParams)),
        ),
      );
    if (path === "/findings.csv" || path === "/findings.json") {
      const query = parseFindingsQuery(url.searchParams);
      const csv = path.endsWith(".csv");
      res.writeHead(200, {
        ...securityHeaders(),
        "content-type": csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="leakwarden-findings.${csv ? "csv" : "json"}"`,
      });
      for await (const chunk of csv ? exportCsv(this.store, query) : exportJson(this.store, query)) {
        // Honour backpressure (100,000 rows are not buffered for a slow client), and let webhooks and
        // workers run between batches.
        if (!res.write(chunk)) await once(res, "drain");
        else await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
      return true as const;
    }
    const detail = /^\/findings\/(\d+)$/.exec(path);
    if (detail) {
      const finding = await this.store.findings.byId(Number(detail[1]));
      if (!finding) throw new HttpError(404, `no finding #${detail[1]}`);
      return this.send(
        res,
        200,
        page(
          `Finding #${finding.id}`,
          frame("findings"),
          await findingPage(this.store, base, finding, session, this.options.webUrl),
        ),
      );
    }
    if (path === "/registry")
      return this.send(res, 200, page("Registry", frame("registry"), await registryPage(this.store)));
    if (path === "/audit")
      return this.send(
        res,
        200,
        page("Audit log", frame("audit"), await auditPage(this.store, base, url.searchParams)),
      );
    throw new HttpError(404, "no such page");
  }

  private async post(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    session: Session,
  ): Promise<Sent> {
    const form = await readForm(req);
    const csrf = form.get("csrf") ?? "";
    if (!sameText(csrf, session.csrf)) {
      await this.store.audit.record({
        action: "console.csrf-refused",
        actor: session.login,
        subject: path,
      });
      throw new HttpError(403, "the form's CSRF token is wrong or missing; reload the page and try again");
    }
    const login = session.login;
    if (path === "/logout") {
      await this.store.audit.record({ action: "console.signout", actor: login, subject: `user:${login}` });
      return this.redirect(res, `${CONSOLE_PATH}/login`, {
        "set-cookie": this.cookie(SESSION_COOKIE, "", 0),
      });
    }
    const action = /^\/findings\/(\d+)\/(resolve|reopen|revoke)$/.exec(path);
    if (!action) throw new HttpError(404, "no such action");
    const id = Number(action[1]);
    const note = form.get("note")?.trim().slice(0, 500) || null;
    switch (action[2]) {
      case "resolve": {
        const resolution = form.get("resolution") as Resolution;
        if (!RESOLUTIONS.includes(resolution))
          throw new HttpError(400, `resolution must be one of ${RESOLUTIONS.join(", ")}`);
        if (!note) throw new HttpError(400, "say why in the note");
        await resolveFinding(this.store, id, resolution, note, login);
        break;
      }
      case "reopen":
        await reopenFinding(this.store, id, note, login);
        break;
      case "revoke": {
        const finding = await getFinding(this.store, id);
        const result = await requestRevocation(
          this.store,
          this.options.revokers,
          this.options.rules,
          finding,
          {
            actor: login,
          },
        );
        if (result.state === "queued") this.options.revocationsQueued?.();
        else if (result.state === "finished")
          throw new TriageError(`finding #${id}'s token is already ${result.view.status}`);
        break;
      }
    }
    return this.redirect(res, `${CONSOLE_PATH}/findings/${id}`);
  }
}
