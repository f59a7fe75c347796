// A stand-in for the parts of GitHub that leakwarden uses: the REST API under /api/v3 and git over HTTP at
// /<owner>/<repo>.git, on one host as GitHub Enterprise serves them (GHE_HOST=127.0.0.1:PORT,
// GHE_PROTOCOL=http). State lives in memory for assertions.
import { randomBytes } from "node:crypto";
import { type GitHttpServer, gitBackend } from "./git-server.js";
import { newPullState, type PullState, postPullComment, pullRoutes } from "./github-pulls.js";
import { json, type StandIn, startStandIn } from "./http.js";

export interface StandInIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  assignees: string[];
  comments: string[];
  /** When it was opened (epoch ms). */
  openedAt: number;
}

export interface GitHubStandIn extends StandIn {
  /** The installation token the stand-in hands out; the git server should accept it. */
  installationToken: string;
  issues: StandInIssue[];
  labels: Set<string>;
  /** Serve this zip for a run's logs (GET .../actions/runs/:id/logs redirects to it). */
  runLogs: Map<number, Buffer>;
  deletedRunLogs: number[];
  /** Raw values posted to POST /credentials/revoke. */
  revokedCredentials: string[];
  /** `.github/leakwarden.yml` per repository full name. */
  settings: Map<string, string>;
  /** Every git request (clone, fetch, push), with whether it carried the installation token. */
  gitRequests: GitHttpServer["requests"];
  /** Pull requests' comments, the installation's repositories, the REST budget reported (github-pulls.ts). */
  pulls: PullState;
  /**
   * Holds the next git fetch (upload-pack) until `release`; `reached` resolves once one is held. Tests use it
   * to act while a backfill is midway.
   */
  holdNextFetch(): { reached: Promise<void>; release: () => void };
}

/**
 * GitHub-like secondary rate limits on content-creating requests (labels, issues, comments): a refused write
 * gets 403 with Retry-After, as github.com answers one.
 */
export interface WriteThrottle {
  /** Refuse every n-th write (2: every second one). */
  everyNth?: number;
  /** Refuse a write that comes sooner than this after the last accepted one. */
  minIntervalMs?: number;
  retryAfterSeconds: number;
}

/** `gitRoot` holds the bare repositories git clients reach at /<owner>/<repo>.git. */
export async function startGitHubStandIn(
  gitRoot: string,
  options: { throttle?: WriteThrottle } = {},
): Promise<GitHubStandIn> {
  // A fresh random value each run: shaped like an installation token, never checksum-valid by design.
  const installationToken = `ghs_${randomBytes(27).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`;
  const issues: StandInIssue[] = [];
  const labels = new Set<string>();
  const runLogs = new Map<number, Buffer>();
  const deletedRunLogs: number[] = [];
  const revokedCredentials: string[] = [];
  const settings = new Map<string, string>();
  const pulls = newPullState();
  const api = "/api/v3";
  const authed = (headers: Record<string, unknown>) => headers.authorization === `token ${installationToken}`;
  let url = "";
  const gitRequests: GitHttpServer["requests"] = [];
  let git: ReturnType<typeof gitBackend> | undefined;
  let hold: { reached: () => void; released: Promise<void> } | undefined;
  const gate = async (req: { url?: string }) => {
    if (!hold || !/git-upload-pack/.test(req.url ?? "")) return;
    const held = hold;
    hold = undefined;
    held.reached();
    await held.released;
  };
  let writes = 0;
  let lastWrite = 0;
  const throttle = options.throttle;
  /** Answers 403 and returns true when the throttle refuses this write. */
  const refused = (res: Parameters<typeof json>[0]): boolean => {
    if (!throttle) return false;
    writes++;
    const now = Date.now();
    const tooSoon = throttle.minIntervalMs !== undefined && now - lastWrite < throttle.minIntervalMs;
    if ((throttle.everyNth !== undefined && writes % throttle.everyNth === 0) || tooSoon) {
      res.writeHead(403, {
        "content-type": "application/json",
        "retry-after": String(throttle.retryAfterSeconds),
      });
      res.end(JSON.stringify({ message: "You have exceeded a secondary rate limit." }));
      return true;
    }
    lastWrite = now;
    return false;
  };

  const server = await startStandIn(
    [
      ...pullRoutes(api, pulls, 4242),
      [
        `POST ${api}/app/installations/:id/access_tokens`,
        () => (_req, res) =>
          json(res, 201, {
            token: installationToken,
            expires_at: new Date(Date.now() + 3600_000).toISOString(),
            permissions: { contents: "read", issues: "write", actions: "read", metadata: "read" },
            repository_selection: "all",
          }),
      ],
      [
        `GET ${api}/repos/:owner/:repo/contents/:path*`,
        (p) => (req, res) => {
          const text = settings.get(`${p.owner}/${p.repo}`);
          if (p.path !== ".github/leakwarden.yml" || text === undefined)
            return json(res, 404, { message: "Not Found" });
          // Probot's config loader asks for the raw file, as GitHub serves it.
          if (String(req.headers.accept ?? "").includes("application/vnd.github.v3.raw")) {
            res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(text);
            return;
          }
          json(res, 200, {
            type: "file",
            encoding: "base64",
            content: Buffer.from(text).toString("base64"),
            path: p.path,
          });
        },
      ],
      [
        `GET ${api}/repos/:owner/:repo/labels/:name`,
        (p) => (_req, res) =>
          labels.has(p.name ?? "")
            ? json(res, 200, { name: p.name })
            : json(res, 404, { message: "Not Found" }),
      ],
      [
        `POST ${api}/repos/:owner/:repo/labels`,
        () => (req, res) => {
          if (refused(res)) return;
          const { name } = JSON.parse(req.body) as { name: string };
          if (labels.has(name))
            return json(res, 422, { message: "Validation Failed", errors: [{ code: "already_exists" }] });
          labels.add(name);
          json(res, 201, { name });
        },
      ],
      [
        // Newest first, as leakwarden asks: it looks for an issue an interrupted attempt opened.
        `GET ${api}/repos/:owner/:repo/issues`,
        (p) => (req, res) => {
          const label = req.query.get("labels");
          const listed = issues
            .filter((issue) => !label || label.split(",").every((l) => issue.labels.includes(l)))
            .reverse()
            .map((issue) => ({
              number: issue.number,
              body: issue.body,
              html_url: `https://github.com/${p.owner}/${p.repo}/issues/${issue.number}`,
            }));
          json(res, 200, listed);
        },
      ],
      [
        `POST ${api}/repos/:owner/:repo/issues`,
        (p) => (req, res) => {
          if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
          if (refused(res)) return;
          const body = JSON.parse(req.body) as {
            title: string;
            body: string;
            labels?: string[];
            assignees?: string[];
          };
          const issue: StandInIssue = {
            number: issues.length + 1,
            title: body.title,
            body: body.body,
            labels: body.labels ?? [],
            assignees: body.assignees ?? [],
            comments: [],
            openedAt: Date.now(),
          };
          issues.push(issue);
          json(res, 201, {
            number: issue.number,
            html_url: `https://github.com/${p.owner}/${p.repo}/issues/${issue.number}`,
          });
        },
      ],
      [
        `POST ${api}/repos/:owner/:repo/issues/:number/comments`,
        (p) => (req, res) => {
          const pull = postPullComment(
            pulls,
            Number(p.number),
            (JSON.parse(req.body) as { body: string }).body,
          );
          if (pull) return json(res, 201, { id: pull.id });
          const issue = issues[Number(p.number) - 1];
          if (!issue) return json(res, 404, { message: "Not Found" });
          if (refused(res)) return;
          issue.comments.push((JSON.parse(req.body) as { body: string }).body);
          json(res, 201, { id: issue.comments.length });
        },
      ],
      [
        `GET ${api}/repos/:owner/:repo/actions/runs/:id/logs`,
        (p) => (req, res) => {
          if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
          if (!runLogs.has(Number(p.id))) return json(res, 404, { message: "Not Found" });
          // GitHub redirects to a short-lived download URL on another host.
          res.writeHead(302, { location: `${url}/_downloads/run-${p.id}.zip` }).end();
        },
      ],
      [
        "GET /_downloads/:name",
        (p) => (_req, res) => {
          const zip = runLogs.get(Number(/run-(\d+)\.zip/.exec(p.name ?? "")?.[1]));
          if (!zip) return json(res, 404, { message: "expired" });
          res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length }).end(zip);
        },
      ],
      [
        `DELETE ${api}/repos/:owner/:repo/actions/runs/:id/logs`,
        (p) => (_req, res) => {
          deletedRunLogs.push(Number(p.id));
          json(res, 204);
        },
      ],
      [
        `POST ${api}/credentials/revoke`,
        () => (req, res) => {
          revokedCredentials.push(...(JSON.parse(req.body) as { credentials: string[] }).credentials);
          json(res, 202, {});
        },
      ],
    ],
    (req, res) => {
      if (!/^\/[^/]+\/[^/]+\.git\//.test(req.url ?? "")) return false;
      git ??= gitBackend(gitRoot, installationToken, gitRequests, gate);
      git(req, res);
      return true;
    },
  );
  url = server.url;
  return {
    ...server,
    installationToken,
    issues,
    labels,
    runLogs,
    deletedRunLogs,
    revokedCredentials,
    settings,
    gitRequests,
    pulls,
    holdNextFetch() {
      let reached = () => {};
      let release = () => {};
      const reachedPromise = new Promise<void>((resolve) => {
        reached = resolve;
      });
      hold = { reached, released: new Promise<void>((resolve) => (release = resolve)) };
      return { reached: reachedPromise, release };
    },
  };
}
