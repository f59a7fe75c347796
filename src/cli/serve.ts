// `leakwarden serve`: runs the GitHub App until it is stopped (SIGINT, SIGTERM).

import { serveConfigFrom } from "../app/config.js";
import { LeakwardenApp, WEBHOOK_PATH } from "../app/index.js";
import { probeAdoCredential } from "../revoke/azure-devops.js";
import { providerSettings } from "../revoke/settings.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const HELP = `Usage: leakwarden serve

Runs the leakwarden GitHub App: it receives push and workflow_run webhooks at
${WEBHOOK_PATH}, scans each push (with git) and each finished run's logs,
revokes leaked tokens found in the registry, and opens an issue that explains
the breach. Scanning, revoking and reporting are separate durable stages:
revocation never waits for an issue. GET /healthz reports the database state,
each stage's queue depth, and revocations waiting for a provider's budget.
Webhook bodies over 25 MB are refused (413), unsigned or wrongly signed ones
get 401, malformed ones 400; no payload is ever logged. Log lines are pino
JSON with timestamps when stdout is not a terminal.

Settings come from the environment (a .env file is not read: export them):
  APP_ID                      the GitHub App's id (required)
  PRIVATE_KEY                 its private key: PEM, or base64 of the PEM
  PRIVATE_KEY_PATH            ...or the path of the .pem file
  WEBHOOK_SECRET              the webhook secret (required: no default)
  PORT, HOST                  where to listen (default 3000, localhost; 0.0.0.0 in Docker)
  GHE_HOST, GHE_PROTOCOL      GitHub Enterprise Server host and protocol (https)
  LOG_LEVEL                   trace, debug, info (default), warn, error, fatal
  LOG_FORMAT                  json or pretty (default: json unless stdout is a terminal)
  LEAKWARDEN_DB               the database (default .leakwarden/leakwarden.db)
  LEAKWARDEN_CACHE            cached bare repositories (default .leakwarden/repos)
  LEAKWARDEN_CACHE_MAX_BYTES  evict cached repositories beyond this (default 10 GiB)
  LEAKWARDEN_CONCURRENCY      scans run at once (default 2)
  LEAKWARDEN_REPORT_CONCURRENCY
                              reports run at once, one per installation (default 4)
  LEAKWARDEN_GITHUB_WRITE_INTERVAL_MS
                              least time between two content-creating GitHub
                              requests of one installation (default 1000)
  AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH
  or AZURE_FEDERATED_TOKEN_FILE; AZURE_AUTHORITY_HOST; LEAKWARDEN_ADO_MANAGED_IDENTITY=1
                              Microsoft Entra tokens for Azure DevOps, renewed before
                              they expire (see the README); at start-up serve says
                              whether it can get one
  LEAKWARDEN_ADO_TOKEN, LEAKWARDEN_ADO_VSSPS_URL, LEAKWARDEN_GITLAB_URL,
  LEAKWARDEN_SLACK_API_URL, LEAKWARDEN_KEY
                              the revocation providers (see 'leakwarden revoke --help')
  GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET
                              the App's OAuth client: serves the web console at
                              /console with "Sign in with GitHub"
  LEAKWARDEN_CONSOLE_TEAMS    teams that may sign in (acme/security); owners of
                              organisations where the App is installed may too
  LEAKWARDEN_CONSOLE_URL      the console's public address (OAuth callback, links)
  LEAKWARDEN_CONSOLE_SECRET   signs console sessions (default: random per process)
  LEAKWARDEN_ALERT_SLACK_URL, LEAKWARDEN_ALERT_TEAMS_URL,
  LEAKWARDEN_ALERT_WEBHOOK_URL with LEAKWARDEN_ALERT_WEBHOOK_SECRET
                              alerts on breaches and revocation outcomes

Each repository can tune the app in .github/leakwarden.yml (see the README).
`;

export const serveCommand: Command = {
  name: "serve",
  help: HELP,
  async run(args, io) {
    const { positionals } = parseFlags("serve", args, {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "serve");
    const config = serveConfigFrom(io.env);
    // Said before anything else: without a token, no Azure DevOps PAT can be revoked.
    const ado = await probeAdoCredential(providerSettings(io.env));
    io.stderr.write(
      ado.ok
        ? `leakwarden serve: ${ado.message}\n`
        : `leakwarden serve: WARNING: Azure DevOps PATs cannot be revoked: ${ado.message}\n`,
    );
    const app = await LeakwardenApp.open({ config, env: io.env });
    await app.start();
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await app.stop();
    return 0;
  },
};
