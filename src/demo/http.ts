// A tiny router for the local stand-ins: enough HTTP to play GitHub, Azure DevOps and a git server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
  /** When the request's body had arrived (epoch ms): the load benchmark times calls by it. */
  at: number;
}

/** A route answers, or returns false to leave the request to the next route that matches. */
// biome-ignore lint/suspicious/noConfusingVoidType: a route that answers returns nothing
export type Route = (request: Recorded, res: ServerResponse) => void | false | Promise<void | false>;

export interface StandIn {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function json(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

/** Starts a server on 127.0.0.1; routes are "METHOD /path/:param" patterns tried in order. */
export async function startStandIn(
  routes: [string, (params: Record<string, string>) => Route][],
  /** Tried first, before the body is read: true when it took the request (a streaming backend). */
  raw?: (req: IncomingMessage, res: ServerResponse) => boolean,
): Promise<StandIn> {
  const compiled = routes.map(([pattern, make]) => {
    const [method, path] = pattern.split(" ") as [string, string];
    const names: string[] = [];
    const regex = new RegExp(
      `^${path.replace(/:([a-zA-Z_]+)\*?/g, (whole, name: string) => {
        names.push(name);
        return whole.endsWith("*") ? "(.+)" : "([^/]+)";
      })}$`,
    );
    return { method, regex, names, make };
  });
  const requests: Recorded[] = [];
  const server: Server = createServer(async (req, res) => {
    if (raw?.(req, res)) return;
    const url = new URL(req.url ?? "/", "http://localhost");
    const recorded: Recorded = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: await readBody(req),
      at: 0,
    };
    recorded.at = Date.now();
    requests.push(recorded);
    for (const route of compiled) {
      const match = route.method === recorded.method ? route.regex.exec(url.pathname) : null;
      if (!match) continue;
      const params = Object.fromEntries(
        route.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]),
      );
      try {
        if ((await route.make(params)(recorded, res)) === false) continue;
      } catch (error) {
        json(res, 500, { message: (error as Error).message });
      }
      return;
    }
    json(res, 404, { message: "Not Found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
