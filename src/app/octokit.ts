// The Octokit class the App gives Probot: its own pacing instead of Octokit's throttling, and installation
// tokens minted on the configured GitHub (Enterprise Server too) when asked for outside an API call.
import type { ProbotOctokit } from "probot";

type RequestFn = { defaults: (options: { baseUrl: string }) => unknown };

/**
 * `Octokit` with the throttling plugin off (the report stage paces writes per installation) and, with
 * `baseUrl` (GitHub Enterprise Server), the App's authentication asking that server for tokens. Probot gives the
 * App's authentication a request of its own without the server's URL: an API call still gets its token from the
 * right place (the call's URL wins), but `octokit.auth({ type: "installation" })`, which the git fetches use,
 * would ask api.github.com whenever no token is cached, and fail on an air-gapped server.
 */
export function appOctokit(Octokit: typeof ProbotOctokit, baseUrl?: string): typeof ProbotOctokit {
  return Octokit.defaults((options: Record<string, unknown>) => {
    const auth = options.auth as { request?: RequestFn } | undefined;
    return {
      ...options,
      throttle: { ...(options.throttle as object), enabled: false },
      ...(baseUrl && auth?.request ? { auth: { ...auth, request: auth.request.defaults({ baseUrl }) } } : {}),
    };
  });
}
