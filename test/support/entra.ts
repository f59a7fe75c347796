// A stand-in for the Microsoft Entra token endpoint over HTTPS, with a self-signed certificate made at test time
// (openssl), for child processes that trust it through NODE_EXTRA_CA_CERTS. Issues short-lived tokens and says
// whether a bearer token is one it issued that has not expired yet.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EntraStandIn {
  url: string;
  /** The CA file to put in NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** Every token issued, in order, with when it expires (ms since epoch). */
  issued: { token: string; expiresAt: number; form: URLSearchParams }[];
  /** The bearer is a token issued here that has not expired. */
  accepts(authorization: string | undefined): boolean;
  close(): Promise<void>;
}

export async function startEntraStandIn(tenant: string, lifetimeSeconds: number): Promise<EntraStandIn> {
  const dir = mkdtempSync(join(tmpdir(), "leakwarden-entra-"));
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  const issued: EntraStandIn["issued"] = [];
  let base = "";
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const path = new URL(req.url ?? "/", "https://localhost").pathname;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "GET" && path === `/${tenant}/v2.0/.well-known/openid-configuration`)
        return send(200, {
          token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
          issuer: `${base}/${tenant}/v2.0`,
          jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
        });
      if (req.method === "POST" && path === `/${tenant}/oauth2/v2.0/token`) {
        const token = `entra-e2e-${issued.length + 1}`;
        issued.push({
          token,
          expiresAt: Date.now() + lifetimeSeconds * 1000,
          form: new URLSearchParams(Buffer.concat(chunks).toString("utf8")),
        });
        return send(200, { token_type: "Bearer", expires_in: lifetimeSeconds, access_token: token });
      }
      send(404, { error: "not_found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    caFile: cert,
    issued,
    accepts(authorization) {
      const token = authorization?.replace(/^Bearer /, "");
      const found = issued.find((i) => i.token === token);
      return found !== undefined && found.expiresAt > Date.now();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
