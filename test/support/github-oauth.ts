// A stand-in for GitHub's OAuth web flow and the membership APIs the console asks: /login/oauth/authorize
// signs in whoever the test names (GitHub would show its own sign-in page) and sends the browser back.
import { randomBytes } from "node:crypto";
import { type StandIn, startStandIn } from "./stand-in.js";

export interface OAuthStandIn extends StandIn {
  clientId: string;
  clientSecret: string;
  /** Who the next sign-in is. */
  signInAs(login: string): void;
  /** Team memberships (`org/slug` → logins) and organisation owners (`org` → logins). */
  teams: Map<string, string[]>;
  owners: Map<string, string[]>;
}

export async function startOAuthStandIn(): Promise<OAuthStandIn> {
  const clientId = "Iv1.console-test";
  const clientSecret = randomBytes(20).toString("hex");
  let next = "";
  const codes = new Map<string, string>();
  const tokens = new Map<string, string>();
  const teams = new Map<string, string[]>();
  const owners = new Map<string, string[]>();
  const userOf = (authorization: string | undefined) =>
    tokens.get((authorization ?? "").replace(/^Bearer /, ""));
  const json = (status: number, body: unknown) => ({
    status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const server = await startStandIn((request) => {
    const url = new URL(request.url, "http://stand-in");
    if (request.method === "GET" && url.pathname === "/login/oauth/authorize") {
      if (url.searchParams.get("client_id") !== clientId) return { status: 400, body: "unknown client" };
      const code = randomBytes(8).toString("hex");
      codes.set(code, next);
      const back = new URL(url.searchParams.get("redirect_uri") as string);
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      return { status: 302, headers: { location: back.toString() } };
    }
    if (request.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const body = JSON.parse(request.body) as Record<string, string>;
      const login = codes.get(body.code ?? "");
      if (body.client_secret !== clientSecret || !login) return json(200, { error: "bad_verification_code" });
      codes.delete(body.code as string);
      const token = `user-token-${randomBytes(8).toString("hex")}`;
      tokens.set(token, login);
      return json(200, { access_token: token, token_type: "bearer", scope: "read:org" });
    }
    const login = userOf(request.headers.authorization as string | undefined);
    if (!login) return json(401, { message: "Bad credentials" });
    if (url.pathname === "/api/v3/user") return json(200, { login });
    const team = /^\/api\/v3\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(url.pathname);
    if (team) {
      const members = teams.get(`${team[1]}/${team[2]}`) ?? [];
      // GitHub answers 404 for someone who is not a member (or a team the token cannot see).
      return members.includes(team[3] as string) && team[3] === login
        ? json(200, { state: "active", role: "member" })
        : json(404, { message: "Not Found" });
    }
    const org = /^\/api\/v3\/user\/memberships\/orgs\/([^/]+)$/.exec(url.pathname);
    if (org) {
      const isOwner = (owners.get(org[1] as string) ?? []).includes(login);
      return isOwner ? json(200, { state: "active", role: "admin" }) : json(404, { message: "Not Found" });
    }
    return json(404, { message: "Not Found" });
  });
  return {
    ...server,
    clientId,
    clientSecret,
    signInAs: (login) => {
      next = login;
    },
    teams,
    owners,
  };
}
