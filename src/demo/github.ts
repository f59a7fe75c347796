// A stand-in for the parts of GitHub that leakwarden uses: the REST API under /api/v3 and git over HTTP at
// /<owner>/<repo>.git, on one host as GitHub Enterprise serves them (GHE_HOST=127.0.0.1:PORT,
// GHE_PROTOCOL=http). State lives in memory for assertions.
import { randomBytes } from "node:crypto";
import { type GitHttpServer, gitBackend } from "./git-server.js";
import { newPullState, type PullState, postPullComment, pullRoutes } from "./github-pulls.js";
import { json, type Route, type StandIn, startStandIn } from "./http.js";

/** The App's slug on the stand-in: its bot user is `leakwarden-demo[bot]`. */
export const APP_SLUG = "leakwarden-demo";

export interface StandInIssue {
  /** The repository it was opened in (owner/name). */
  repository: string;
  number: number;
  title: string;
  body: string;
  labels: string[];
  assignees: string[];
  comments: string[];
  /** When it was opened (epoch ms). */
  openedAt: number;
  /** How many times its body or title was edited. */
  edits?: number;
}

/** A text people wrote (an issue, a comment, a discussion, a release note) that the app reads and may edit. */
export interface StandInText {
  title?: string;
  body: string;
  /** Each body the app wrote, oldest first. */
  edits: string[];
}

export interface GitHubStandIn extends StandIn {
  /** The installation token the stand-in hands out; the git server should accept it. */
  installationToken: string;
  issues: StandInIssue[];
  labels: Set<string>;
  /** Serve this zip for a run's logs (GET .../actions/runs/:id/logs redirects to it). */
  runLogs: Map<number, Buffer>;
  deletedRunLogs: number[];
  /** When each content-creating request the throttle refused (403, Retry-After) came, in clock ms. */
  refusedWrites: number[];
  /** Raw values posted to POST /credentials/revoke. */
  revokedCredentials: string[];
  /** `.github/leakwarden.yml` per repository full name (`acme/.github` for the organisation's). */
  settings: Map<string, string>;
  /** The repositories GET /repos/:owner/:repo knows, with their visibility; acme/app is private. */
  repositories: Map<string, { visibility: "public" | "private" | "internal" }>;
  /**
   * Repositories taken away from the installation (GitHub's `installation_repositories` removed): every API
   * request under /repos/:owner/:repo answers 404 for them, as GitHub does. Git is served as before.
   */
  unreachable: Set<string>;
  /** Every git request (clone, fetch, push), with whether it carried the installation token. */
  gitRequests: GitHttpServer["requests"];
  /**
   * Texts by their REST path under the API (`/repos/acme/app/issues/comments/11`, `/repos/acme/app/releases/3`)
   * or, for discussions and their comments (GraphQL), by node id.
   */
  texts: Map<string, StandInText>;
  /** Secret scanning alerts by `owner/repo#number`, as GET .../secret-scanning/alerts/:number returns them. */
  secretAlerts: Map<string, Record<string, unknown>>;
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
  const refusedWrites: number[] = [];
  const revokedCredentials: string[] = [];
  const settings = new Map<string, string>();
  const texts = new Map<string, StandInText>();
  const secretAlerts = new Map<string, Record<string, unknown>>();
  const repositories = new Map<string, { visibility: "public" | "private" | "internal" }>([
    ["acme/app", { visibility: "private" }],
  ]);
  const issueOf = (p: Record<string, string>) =>
    issues.find((i) => i.repository === `${p.owner}/${p.repo}` && i.number === Number(p.number));
  const pulls = newPullState();
  const api = "/api/v3";
  const unreachable = new Set<string>();
  /** First in the table: a repository the installation lost answers 404 to everything. */
  const lostRepositoryRoutes = ["GET", "POST", "PATCH", "PUT", "DELETE"].flatMap((method) =>
    [`${api}/repos/:owner/:repo`, `${api}/repos/:owner/:repo/:rest*`].map(
      (path): [string, (p: Record<string, string>) => Route] => [
        `${method} ${path}`,
        (p) => (_req, res) =>
          unreachable.has(`${p.owner}/${p.repo}`) ? json(res, 404, { message: "Not Found" }) : false,
      ],
    ),
  );
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
      refusedWrites.push(now);
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

  /** GET and PATCH of a text by its REST path; `titleField` is where its title is (issues: title, releases: name). */
  const textRoutes = (pattern: string, titleField?: string): [string, () => Route][] => [
    [
      `GET ${api}${pattern}`,
      () => (req, res) => {
        if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
        const text = texts.get(req.path.slice(api.length));
        if (!text) return false;
        json(res, 200, { body: text.body, ...(titleField ? { [titleField]: text.title ?? "" } : {}) });
      },
    ],
    [
      `PATCH ${api}${pattern}`,
      () => (req, res) => {
        if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
        const text = texts.get(req.path.slice(api.length));
        if (!text) return false;
        if (refused(res)) return;
        const update = JSON.parse(req.body) as Record<string, unknown>;
        if (typeof update.body === "string") {
          text.body = update.body;
          text.edits.push(update.body);
        }
        if (titleField && typeof update[titleField] === "string") text.title = update[titleField] as string;
        json(res, 200, { body: text.body });
      },
    ],
  ];

  const server = await startStandIn(
    [
      ...lostRepositoryRoutes,
      ...textRoutes("/repos/:owner/:repo/issues/comments/:id"),
      ...textRoutes("/repos/:owner/:repo/issues/:number", "title"),
      ...textRoutes("/repos/:owner/:repo/pulls/comments/:id"),
      ...textRoutes("/repos/:owner/:repo/pulls/:number", "title"),
      ...textRoutes("/repos/:owner/:repo/comments/:id"),
      ...textRoutes("/repos/:owner/:repo/releases/:id", "name"),
      [
        `GET ${api}/repos/:owner/:repo/secret-scanning/alerts/:number`,
        (p) => (req, res) => {
          if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
          const alert = secretAlerts.get(`${p.owner}/${p.repo}#${p.number}`);
          if (!alert) return json(res, 404, { message: "Not Found" });
          json(res, 200, alert);
        },
      ],
      [
        // Discussions live in GraphQL only: read a node's title and body, update a discussion or its comment.
        "POST /api/graphql",
        () => (req, res) => {
          if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
          const { query, variables } = JSON.parse(req.body) as {
            query: string;
            variables: { id: string; body?: string; title?: string };
          };
          const text = texts.get(variables.id);
          if (!text)
            return json(res, 200, {
              data: null,
              errors: [
                {
                  type: "NOT_FOUND",
                  message: `Could not resolve to a node with the global id of '${variables.id}'`,
                },
              ],
            });
          if (/updateDiscussion(Comment)?\(/.test(query)) {
            if (refused(res)) return;
            text.body = variables.body ?? text.body;
            text.edits.push(text.body);
            if (variables.title !== undefined) text.title = variables.title;
            return json(res, 200, { data: { result: { id: variables.id } } });
          }
          json(res, 200, { data: { node: { title: text.title, body: text.body } } });
        },
      ],
      ...pullRoutes(api, pulls, 4242),
      [
        // The App itself (asked with its JWT): leakwarden learns its bot's login from the slug.
        `GET ${api}/app`,
        () => (_req, res) => json(res, 200, { id: 1, slug: APP_SLUG, name: "leakwarden demo" }),
      ],
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
        `GET ${api}/repos/:owner/:repo`,
        (p) => (req, res) => {
          if (!authed(req.headers)) return json(res, 401, { message: "Bad credentials" });
          const repo = repositories.get(`${p.owner}/${p.repo}`);
          if (!repo) return json(res, 404, { message: "Not Found" });
          json(res, 200, {
            full_name: `${p.owner}/${p.repo}`,
            name: p.repo,
            owner: { login: p.owner },
            private: repo.visibility !== "public",
            visibility: repo.visibility,
          });
        },
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
            .filter((issue) => issue.repository === `${p.owner}/${p.repo}`)
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
          const repository = `${p.owner}/${p.repo}`;
          const issue: StandInIssue = {
            repository,
            number: issues.filter((i) => i.repository === repository).length + 1,
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
        `GET ${api}/repos/:owner/:repo/issues/:number`,
        (p) => (_req, res) => {
          const issue = issueOf(p);
          if (!issue) return json(res, 404, { message: "Not Found" });
          json(res, 200, {
            number: issue.number,
            title: issue.title,
            body: issue.body,
            html_url: `https://github.com/${issue.repository}/issues/${issue.number}`,
          });
        },
      ],
      [
        `PATCH ${api}/repos/:owner/:repo/issues/:number`,
        (p) => (req, res) => {
          const issue = issueOf(p);
          if (!issue) return json(res, 404, { message: "Not Found" });
          if (refused(res)) return;
          const edit = JSON.parse(req.body) as { body?: string; title?: string };
          if (edit.body !== undefined) issue.body = edit.body;
          if (edit.title !== undefined) issue.title = edit.title;
          issue.edits = (issue.edits ?? 0) + 1;
          json(res, 200, { number: issue.number, body: issue.body });
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
          const issue = issueOf(p);
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
    refusedWrites,
    revokedCredentials,
    settings,
    repositories,
    unreachable,
    gitRequests,
    texts,
    secretAlerts,
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
