// A stand-in for Azure DevOps' token APIs (token-formats.md §1.5, §1.6): mints PATs, records revocations.
import { randomUUID } from "node:crypto";
import { json, type StandIn, startStandIn } from "./http.js";

export interface AzureDevOpsStandIn extends StandIn {
  /** authorizationIds revoked through the Token Admin API, in order, one entry per id per call. */
  revoked: string[];
  /** authorizationIds deleted through the PAT lifecycle API. */
  deleted: string[];
}

/**
 * `mint` makes the token value for a created PAT (the demo passes a generator: no token is ever stored).
 * `bearer` is the Entra token it accepts, or a check of the Authorization header (tokens that expire).
 */
export async function startAzureDevOpsStandIn(
  mint: () => string,
  bearer: string | ((authorization: string | undefined) => boolean) = "entra-token",
): Promise<AzureDevOpsStandIn> {
  const revoked: string[] = [];
  const deleted: string[] = [];
  const authorized = (headers: Record<string, unknown>) => {
    const header = typeof headers.authorization === "string" ? headers.authorization : undefined;
    return typeof bearer === "string" ? header === `Bearer ${bearer}` : bearer(header);
  };
  const server = await startStandIn([
    [
      "POST /:org/_apis/tokenadmin/revocations",
      () => (req, res) => {
        if (!authorized(req.headers)) return json(res, 401, { message: "TF400813: not authorized" });
        const body = JSON.parse(req.body) as { authorizationId: string }[];
        revoked.push(...body.map((entry) => entry.authorizationId));
        json(res, 204);
      },
    ],
    [
      // Live checks: the PAT itself as Basic auth. The demo's PATs are revoked at once, so none works.
      "GET /:org/_apis/connectionData",
      () => (_req, res) => json(res, 401, { message: "TF400813: not authorized" }),
    ],
    [
      "POST /:org/_apis/tokens/pats",
      () => (req, res) => {
        if (!authorized(req.headers)) return json(res, 401, { message: "TF400813: not authorized" });
        const body = JSON.parse(req.body) as {
          displayName: string;
          scope: string;
          validTo: string;
          allOrgs: boolean;
        };
        json(res, 200, {
          patToken: {
            displayName: body.displayName,
            validTo: body.validTo,
            scope: body.scope,
            targetAccounts: body.allOrgs ? null : [randomUUID()],
            validFrom: new Date().toISOString(),
            authorizationId: randomUUID(),
            token: mint(),
          },
          patTokenError: "none",
        });
      },
    ],
    [
      "DELETE /:org/_apis/tokens/pats",
      () => (req, res) => {
        if (!authorized(req.headers)) return json(res, 401, { message: "TF400813: not authorized" });
        deleted.push(req.query.get("authorizationId") ?? "");
        json(res, 204);
      },
    ],
  ]);
  return { ...server, revoked, deleted };
}
