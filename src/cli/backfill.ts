// `leakwarden backfill`: queues a scan of whole repositories' history for the GitHub App, in the database that
// `leakwarden serve` works from. It does not scan here: the app has the installation's credentials.
import { randomUUID } from "node:crypto";
import { enqueueInstallationBackfill, enqueueRepositoryBackfill } from "../app/backfill-jobs.js";
import { isGitHubFullName } from "../app/git-cache.js";
import { type Command, parseCount, parseFlags, UsageError } from "./command.js";
import { DB_FLAG, DB_HELP, openCliStore, withStore } from "./store-access.js";

const HELP = `Usage: leakwarden backfill OWNER/REPO [OWNER/REPO ...] [--installation ID]
       leakwarden backfill --installation ID
       leakwarden backfill --status [--json]

Queues a scan of a repository's whole history (every branch and tag) for the
GitHub App, as it does by itself when it is installed or given repositories.
The app fetches the history, revokes the registered tokens it finds (the
repository's revoke policy, as for a push) and opens one summary issue per
repository. Live pushes go ahead of backfills at every stage.

This command only writes jobs into the app's database (--db, or LEAKWARDEN_DB:
use the same one as 'leakwarden serve'); the app runs them. 'serve' need not be
running: the jobs wait in the database, and a running 'serve' starts them within
a second. A repository whose backfill is queued or running is not queued twice.

Options
  --installation ID   the App installation that covers the repositories; with
                      no OWNER/REPO, every repository the installation can reach
                      (the app lists them). Without it, the app asks GitHub which
                      installation covers each OWNER/REPO.
  --status            how far the backfills got: repositories queued, running,
                      done, failed and cancelled (removed from the App before
                      their backfill ended), and commits scanned (as /healthz
                      says)
  --json              machine-readable output
${DB_HELP}

Examples
  LEAKWARDEN_DB=/data/leakwarden.db leakwarden backfill acme/app
  leakwarden backfill --installation 4242
  leakwarden backfill --status
  leakwarden audit list --action backfill.     # each backfill's queue, start, done, cancel
`;

const FLAGS = {
  installation: { type: "string" },
  status: { type: "boolean" },
  json: { type: "boolean" },
  ...DB_FLAG,
} as const;

export const backfillCommand: Command = {
  name: "backfill",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("backfill", args, FLAGS);
    const installation =
      values.installation === undefined
        ? undefined
        : parseCount(values.installation, "--installation", "backfill", 0, { min: 1 });
    if (values.status) {
      if (positionals.length > 0 || installation !== undefined)
        throw new UsageError("--status takes no repository or installation", "backfill");
      return withStore(openCliStore(values, io, { create: false }), async (store) => {
        const summary = await store.backfills.summary();
        if (values.json) io.stdout.write(`${JSON.stringify(summary)}\n`);
        else
          io.stdout.write(
            `Repositories: ${summary.queued} queued, ${summary.running} running, ${summary.done} done, ${summary.failed} failed, ${summary.cancelled} cancelled; ${summary.commitsScanned} commits scanned.\n`,
          );
        return 0;
      });
    }
    if (positionals.length === 0 && installation === undefined)
      throw new UsageError(
        "name a repository (OWNER/REPO) or an installation (--installation ID)",
        "backfill",
      );
    for (const name of positionals)
      if (!isGitHubFullName(name))
        throw new UsageError(`"${name}" is not a repository name; write it as OWNER/REPO`, "backfill");
    const trigger = `cli:${randomUUID()}`;
    return withStore(openCliStore(values, io, { create: true }), async (store) => {
      const results =
        positionals.length === 0
          ? [
              {
                what: `installation ${installation}`,
                ...(await enqueueInstallationBackfill(store, installation as number, trigger)),
              },
            ]
          : await mapInOrder(positionals, async (fullName) => ({
              what: fullName,
              ...(await enqueueRepositoryBackfill(store, {
                fullName,
                ...(installation !== undefined ? { installation } : {}),
                trigger,
              })),
            }));
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ database: store.path, queued: results }, null, 2)}\n`);
        return 0;
      }
      for (const r of results)
        io.stdout.write(
          r.created
            ? `Queued the backfill of ${r.what} (job ${r.jobId}).\n`
            : `The backfill of ${r.what} is already queued or running (job ${r.jobId}).\n`,
        );
      io.stdout.write(
        `The jobs are in ${store.path}; 'leakwarden serve' with this database runs them (they wait if it is not running).\nProgress: leakwarden backfill --status, GET /healthz, leakwarden audit list --action backfill.\n`,
      );
      return 0;
    });
  },
};

/** Runs `fn` on each item, one after another (store writes in order), and collects the results. */
async function mapInOrder<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}
