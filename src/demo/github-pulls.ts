// The GitHub stand-in's repositories, installations and pull request comments: what backfills and pull
// request scans call. Pull requests share the issues' numbers on GitHub; here a number registered in
// `pullRequests` is a pull request, and its comments live apart from the issues'.
import { json, type Route } from "./http.js";

export interface StandInComment {
  id: number;
  body: string;
  /** How many times it was edited. */
  edits: number;
}

export interface PullState {
  /** Pull request number → its comments, for the repository under test. */
  pullRequests: Map<number, StandInComment[]>;
  /** Repositories the installation reaches (GET /installation/repositories); `owner/name`. */
  repositories: string[];
  /** When set, GET /repos/:owner/:repo reports this many REST calls left (x-ratelimit-remaining). */
  rateLimitRemaining?: number;
}

export function newPullState(): PullState {
  return { pullRequests: new Map(), repositories: ["acme/app"] };
}

type Routes = [string, (params: Record<string, string>) => Route][];

export function pullRoutes(api: string, state: PullState, installation: number): Routes {
  const findComment = (id: number) => {
    for (const comments of state.pullRequests.values()) {
      const comment = comments.find((c) => c.id === id);
      if (comment) return comment;
    }
    return undefined;
  };
  return [
    [`GET ${api}/repos/:owner/:repo/installation`, () => (_req, res) => json(res, 200, { id: installation })],
    [
      `GET ${api}/installation/repositories`,
      () => (_req, res) =>
        json(res, 200, {
          total_count: state.repositories.length,
          repositories: state.repositories.map((full_name) => ({ full_name, name: full_name.split("/")[1] })),
        }),
    ],
    [
      `GET ${api}/repos/:owner/:repo/issues/:number/comments`,
      (p) => (_req, res) => {
        const comments = state.pullRequests.get(Number(p.number));
        if (!comments) return json(res, 200, []);
        json(
          res,
          200,
          comments.map((c) => ({ id: c.id, body: c.body })),
        );
      },
    ],
    [
      `PATCH ${api}/repos/:owner/:repo/issues/comments/:id`,
      (p) => (req, res) => {
        const comment = findComment(Number(p.id));
        if (!comment) return false;
        comment.body = (JSON.parse(req.body) as { body: string }).body;
        comment.edits++;
        json(res, 200, { id: comment.id, body: comment.body });
      },
    ],
    [
      `GET ${api}/repos/:owner/:repo`,
      (p) => (_req, res) => {
        // Repositories the installation does not list are left to the stand-in's own (visibility) route.
        if (!state.repositories.includes(`${p.owner}/${p.repo}`)) return false;
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (state.rateLimitRemaining !== undefined) {
          headers["x-ratelimit-remaining"] = String(state.rateLimitRemaining);
          headers["x-ratelimit-reset"] = String(Math.ceil(Date.now() / 1000) + 3600);
        }
        res.writeHead(200, headers).end(
          JSON.stringify({
            name: p.repo,
            full_name: `${p.owner}/${p.repo}`,
            private: true,
            html_url: `https://github.com/${p.owner}/${p.repo}`,
          }),
        );
      },
    ],
  ];
}

/** POST .../issues/:number/comments on a pull request; false when the number is not one. */
export function postPullComment(state: PullState, number: number, body: string): StandInComment | undefined {
  const comments = state.pullRequests.get(number);
  if (!comments) return undefined;
  const comment = { id: 1_000_000 + number * 1000 + comments.length, body, edits: 0 };
  comments.push(comment);
  return comment;
}
