// A local git server for the demo and the end-to-end tests: `git http-backend` behind a Node HTTP server that
// requires Basic auth, and records what each request carried, so that a test can prove the token never
// appeared in a URL.
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitHttpServer {
  url: string;
  /** Every request's method and URL, in order. */
  requests: { method: string; url: string; authorized: boolean }[];
  close: () => Promise<void>;
}

function authorized(req: IncomingMessage, password: string | undefined): boolean {
  if (password === undefined) return true;
  const header = req.headers.authorization ?? "";
  const expected = `Basic ${Buffer.from(`x-access-token:${password}`).toString("base64")}`;
  return header === expected;
}

/**
 * git http-backend for the bare repositories under `root` (`/<path>.git/...`), behind Basic auth with
 * `password`; each request is recorded in `requests`.
 */
export function gitBackend(
  root: string,
  password: string | undefined,
  requests: GitHttpServer["requests"],
  /** Awaited before a request is served: a test holds a fetch midway (see GitHubStandIn.holdNextFetch). */
  gate?: (req: IncomingMessage) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return async (req, res) => {
    const ok = authorized(req, password);
    requests.push({ method: req.method ?? "GET", url: req.url ?? "", authorized: ok });
    if (!ok) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
      return;
    }
    await gate?.(req);
    const url = new URL(req.url ?? "/", "http://localhost");
    const cgi = spawn("git", ["http-backend"], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        // git gzips a large request (a fetch of many commits); http-backend inflates it when told, as GitHub does.
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        REMOTE_USER: "x-access-token",
        REMOTE_ADDR: "127.0.0.1",
        HTTP_GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on("close", () => res.end());
  };
}

/** Serves the bare repositories under `root` at http://127.0.0.1:PORT/<name>.git. */
export async function startGitHttpServer(root: string, password?: string): Promise<GitHttpServer> {
  const requests: GitHttpServer["requests"] = [];
  const server: Server = createServer(gitBackend(root, password, requests));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
