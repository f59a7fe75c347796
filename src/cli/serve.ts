// `leakwarden serve`: runs the GitHub App until it is stopped (SIGINT, SIGTERM).

import { serveConfigFrom } from "../app/config.js";
import { LeakwardenApp, WEBHOOK_PATH } from "../app/index.js";
import { type Command, parseFlags, UsageError } from "./command.js";

const HELP = `Usage: leakwarden serve

Runs the leakwarden GitHub App: it receives push and workflow_run webhooks at
${WEBHOOK_PATH}, scans each push (with git) and each finished run's logs,
revokes leaked tokens found in the registry, and opens an issue that explains
the breach. Scanning, revoking and reporting are separate durable stages:
revocation never waits for an issue. GET /healthz reports the database state,
each stage's queue depth, and revocations waiting for a provider's budget.
Log lines are pino JSON with timestamps when stdout is not a terminal.

Settings come from the environment (a .env file is not read: export them):
  APP_ID                      the GitHub App's id (required)
  PRIVATE_KEY                 its private key: PEM, or base64 of the PEM
  PRIVATE_KEY_PATH            ...or the path of the .pem file
  WEBHOOK_SECRET              the webhook secret (required: no default)
  PORT, HOST                  where to listen (default 3000, localhost; 0.0.0.0 in Docker)
  GHE_HOST, GHE_PROTOCOL      GitHub Enterprise Server host and protocol (https)
  LOG_LEVEL                   trace, debug, info (default), warn, error, fatal
  LEAKWARDEN_DB               the database (default .leakwarden/leakwarden.db)
  LEAKWARDEN_CACHE            cached bare repositories (default .leakwarden/repos)
  LEAKWARDEN_CACHE_MAX_BYTES  evict cached repositories beyond this (default 10 GiB)
  LEAKWARDEN_CONCURRENCY      scans run at once (default 2)
  LEAKWARDEN_REPORT_CONCURRENCY
                              reports run at once, one per installation (default 4)
  LEAKWARDEN_GITHUB_WRITE_INTERVAL_MS
                              least time between two content-creating GitHub
                              requests of one installation (default 1000)
  LEAKWARDEN_ADO_TOKEN, LEAKWARDEN_ADO_VSSPS_URL, LEAKWARDEN_GITLAB_URL,
  LEAKWARDEN_SLACK_API_URL, LEAKWARDEN_KEY
                              the revocation providers (see 'leakwarden revoke --help')

Each repository can tune the app in .github/leakwarden.yml (see the README).
`;

export const serveCommand: Command = {
  name: "serve",
  help: HELP,
  async run(args, io) {
    const { positionals } = parseFlags("serve", args, {});
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "serve");
    const app = new LeakwardenApp({ config: serveConfigFrom(io.env), env: io.env });
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
