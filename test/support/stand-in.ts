// A local HTTP server standing in for a provider's API, for CLI tests: a child process cannot be intercepted
// by nock. It records every request and answers with what the test's handler says.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type Handler = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface StandIn {
  url: string;
  requests: RecordedRequest[];
  /** Resolves when the n-th request (1-based) has arrived. */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startStandIn(handler: Handler): Promise<StandIn> {
  const requests: RecordedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const request = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(parts).toString("utf8"),
    };
    requests.push(request);
    for (const w of waiters.filter((w) => requests.length >= w.n)) w.resolve();
    open.add(res);
    res.on("close", () => open.delete(res));
    try {
      const reply = await handler(request, requests.length - 1);
      if (res.destroyed) return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? "");
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    arrived: (n) =>
      requests.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  };
}

export const STAND_IN_ENTRA_TOKEN = "entra-token-for-the-stand-in";

/** Points every provider at one stand-in, under /ado, /github, /gitlab and /slack. */
export function providerEnv(url: string): NodeJS.ProcessEnv {
  return {
    LEAKWARDEN_ADO_VSSPS_URL: `${url}/ado`,
    LEAKWARDEN_ADO_TOKEN: STAND_IN_ENTRA_TOKEN,
    LEAKWARDEN_GITHUB_API_URL: `${url}/github`,
    LEAKWARDEN_GITLAB_URL: `${url}/gitlab`,
    LEAKWARDEN_SLACK_API_URL: `${url}/slack`,
    LEAKWARDEN_RETRY_BASE_MS: "20",
  };
}

/** What a real provider answers to a successful revocation, by path. */
export function revokeOk(request: RecordedRequest): Reply {
  if (request.url.startsWith("/ado/")) return { status: 204 };
  if (request.url === "/github/credentials/revoke") return { status: 202, body: "{}" };
  if (request.url.startsWith("/slack/"))
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"ok":true,"revoked":true}',
    };
  return { status: 204 };
}
