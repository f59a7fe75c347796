// "Sign in with GitHub" through the App's own OAuth client. Who may enter: members of the teams in
// LEAKWARDEN_CONSOLE_TEAMS, and owners of the organisations where the App is installed. The user's OAuth
// token is used for these questions and then dropped: it is never stored or shown.
import { UserError } from "../errors.js";

export interface Team {
  org: string;
  slug: string;
}

export interface GitHubOAuthSettings {
  clientId: string;
  clientSecret: string;
  /** https://github.com, or the GitHub Enterprise Server (GHE_PROTOCOL://GHE_HOST). */
  webUrl: string;
  /** https://api.github.com, or WEB/api/v3 on GitHub Enterprise Server. */
  apiUrl: string;
  teams: Team[];
  /** Organisations where the App is installed (their owners may enter). */
  installedOrgs: () => Promise<string[]>;
  fetch?: typeof fetch;
}

export class ConsoleConfigError extends UserError {}

/** `acme/security, acme/appsec` → teams; a malformed entry is an error, never silently dropped. */
export function parseTeams(value: string | undefined): Team[] {
  return (value ?? "")
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      const match = /^([\w.-]+)\/([\w.-]+)$/.exec(entry);
      if (!match)
        throw new ConsoleConfigError(
          `LEAKWARDEN_CONSOLE_TEAMS: "${entry}" is not ORG/TEAM-SLUG (for example acme/security)`,
        );
      return { org: match[1] as string, slug: match[2] as string };
    });
}

/** GitHub's web and API addresses from GHE_HOST and GHE_PROTOCOL (github.com without them). */
export function githubUrls(env: NodeJS.ProcessEnv): { webUrl: string; apiUrl: string } {
  if (!env.GHE_HOST) return { webUrl: "https://github.com", apiUrl: "https://api.github.com" };
  const webUrl = `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}`;
  return { webUrl, apiUrl: `${webUrl}/api/v3` };
}

export type Access = { allowed: true; via: string } | { allowed: false; reason: string };

export class GitHubOAuth {
  private readonly fetch: typeof fetch;

  constructor(readonly settings: GitHubOAuthSettings) {
    this.fetch = settings.fetch ?? fetch;
  }

  authorizeUrl(state: string, redirectUri: string): string {
    const query = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: redirectUri,
      state,
      // read:org lets leakwarden ask about the user's team and organisation memberships.
      scope: "read:org",
      allow_signup: "false",
    });
    return `${this.settings.webUrl}/login/oauth/authorize?${query}`;
  }

  /** Trades the callback's code for the user's token. */
  async exchange(code: string, redirectUri: string): Promise<string> {
    const response = await this.fetch(`${this.settings.webUrl}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({
        client_id: this.settings.clientId,
        client_secret: this.settings.clientSecret,
        code,
        redirect_uri: redirectUri,
      }),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string };
    if (!response.ok || !body.access_token)
      throw new Error(`GitHub refused the sign-in code (${body.error ?? `HTTP ${response.status}`})`);
    return body.access_token;
  }

  private async api(path: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await this.fetch(`${this.settings.apiUrl}${path}`, {
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${token}`,
        "x-github-api-version": "2022-11-28",
      },
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, body };
  }

  async login(token: string): Promise<string> {
    const { status, body } = await this.api("/user", token);
    if (status !== 200 || typeof body.login !== "string") throw new Error(`GitHub /user answered ${status}`);
    return body.login;
  }

  /** Whether `login` may use the console, and through which team or organisation. */
  async access(token: string, login: string): Promise<Access> {
    for (const team of this.settings.teams) {
      const { status, body } = await this.api(
        `/orgs/${encodeURIComponent(team.org)}/teams/${encodeURIComponent(team.slug)}/memberships/${encodeURIComponent(login)}`,
        token,
      );
      if (status === 200 && body.state === "active")
        return { allowed: true, via: `${team.org}/${team.slug}` };
    }
    for (const org of await this.settings.installedOrgs()) {
      const { status, body } = await this.api(`/user/memberships/orgs/${encodeURIComponent(org)}`, token);
      if (status === 200 && body.state === "active" && body.role === "admin")
        return { allowed: true, via: `owner of ${org}` };
    }
    return {
      allowed: false,
      reason: "not a member of a console team, nor an owner of an organisation where the App is installed",
    };
  }
}
