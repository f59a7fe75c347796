// `leakwarden revoke FINDING_ID` revokes one finding's token now; `revoke --pending` runs the queue.

import { revocationJob, viewOfJob } from "../revoke/queue.js";
import { findingState, getFinding, requestRevocation, ValueNeededError } from "../revoke/triage.js";
import type { RevocationOutcome } from "../revoke/worker.js";
import { DEFAULT_ENGINE_SETTINGS, selectRules } from "../scan/settings.js";
import type { Store } from "../store/index.js";
import { LiveChecker, ttlFromEnv } from "../validate/checker.js";
import { CONFIRM_KIND, type ConfirmationOutcome, ConfirmationWorker } from "../validate/confirm.js";
import { validateSettings } from "../validate/settings.js";
import { type Command, type Io, parseFlags, UsageError } from "./command.js";
import {
  cliRevokers,
  cliWorker,
  describeRevocation,
  maxAttempts,
  WAIT_FLAG,
  waitMs,
} from "./revocation-runner.js";
import { readTokenIfGiven, TOKEN_ENV_FLAG } from "./secret-input.js";
import { DB_FLAG, DB_HELP, openCliStore, parseId, shortTime, withStore } from "./store-access.js";
import { colorEnabled, plural, style } from "./terminal.js";

const HELP = `Usage: leakwarden revoke FINDING_ID [--dry-run] [--token-env VAR] [--wait SECONDS] [--json]
       leakwarden revoke --pending [--wait SECONDS]

Revokes the token of a recorded finding now, through its provider's API,
whatever the revocation policy says:
  azure-devops         by the authorization id in the registry (Token Admin
                       API, or the PAT lifecycle API for minted PATs);
                       needs LEAKWARDEN_ADO_TOKEN
  github               POST /credentials/revoke with the token
  github-installation  DELETE /installation/token with the token
  gitlab               DELETE /api/v4/personal_access_tokens/self with the token
  slack                auth.revoke with the token
Revocation by value needs the token itself. leakwarden keeps it (encrypted)
only while a revocation is queued; otherwise give it on stdin or with
--token-env, and it is checked against the finding's hash.

--pending runs every queued revocation: those waiting for a retry, and those a
crash interrupted, then the live checks that confirm earlier revocations and are
due now. Run it from cron, or after a scan whose --wait ran out.

Options
  --dry-run         say which call would be made; call nothing
  --token-env VAR   read the token from environment variable VAR
  --wait SECONDS    how long to wait for retries (default: 30); later ones
                    stay queued
  --json            print the outcome as JSON
${DB_HELP}

Exit status: 0 revoked (or already revoked), 1 failed or still queued, 2 error.

Examples
  leakwarden revoke 12 --dry-run
  leakwarden revoke 12
  leakwarden revoke 14 < leaked-token.txt      # a GitHub token, not queued any more
  leakwarden revoke --pending --wait 120
`;

const FLAGS = {
  "dry-run": { type: "boolean" },
  pending: { type: "boolean" },
  json: { type: "boolean" },
  ...TOKEN_ENV_FLAG,
  ...WAIT_FLAG,
  ...DB_FLAG,
} as const;

/** The confirming checks that are due (validate/confirm.ts); returns how many found a revocation that did not take. */
async function runDueConfirmations(store: Store, io: Io): Promise<number> {
  if ((await store.jobs.counts(CONFIRM_KIND)).pending === 0) return 0;
  const checker = new LiveChecker({ store, settings: validateSettings(io.env), ttlMs: ttlFromEnv(io.env) });
  const worker = new ConfirmationWorker({ store, checker });
  const outcomes: ConfirmationOutcome[] = [];
  worker.onOutcome((o) => outcomes.push(o));
  const checked = await worker.runDue();
  if (checked === 0) return 0;
  const count = (status: string) => outcomes.filter((o) => o.status === status).length;
  io.stdout.write(
    `${plural(checked, "revocation check")}: ${count("confirmed")} confirmed, ${count("accepted")} accepted, ${count("did-not-take")} did not take\n`,
  );
  for (const o of outcomes)
    if (o.status === "did-not-take")
      io.stderr.write(`leakwarden: REVOCATION DID NOT TAKE: ${o.preview} (${o.provider}): ${o.detail}\n`);
  return count("did-not-take");
}

export const revokeCommand: Command = {
  name: "revoke",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("revoke", args, FLAGS);
    const s = style(colorEnabled(io.stdout));
    const wait = waitMs(values, "revoke");
    const revokers = cliRevokers(io);

    if (values.pending) {
      if (positionals.length > 0) throw new UsageError("--pending takes no finding ID", "revoke");
      return withStore(await openCliStore(values, io, { create: false }), async (store) => {
        const worker = cliWorker(store, revokers, io);
        const outcomes: RevocationOutcome[] = [];
        worker.onOutcome((o) => {
          outcomes.push(o);
        });
        const result = await worker.drain({ maxWaitMs: wait });
        const failed = outcomes.filter((o) => o.outcome === "failed").length;
        const done = outcomes.length - failed;
        const left = result.pending + result.running;
        io.stdout.write(
          `${plural(done, "token")} revoked, ${failed} failed, ${left} still queued${
            left > 0 ? ` (next attempt ${shortTime(await store.jobs.nextRunAfter("revoke"))})` : ""
          }\n`,
        );
        const notTaken = await runDueConfirmations(store, io);
        return failed > 0 || left > 0 || notTaken > 0 ? 1 : 0;
      });
    }

    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`, "revoke");
    const id = parseId(positionals[0], "the finding's ID (see 'leakwarden findings list')", "revoke");
    return withStore(await openCliStore(values, io, { create: false }), async (store) => {
      const finding = await getFinding(store, id);
      const rules = selectRules(DEFAULT_ENGINE_SETTINGS);
      const options = { dryRun: values["dry-run"], maxAttempts: maxAttempts(io) };
      let request: Awaited<ReturnType<typeof requestRevocation>>;
      try {
        request = await requestRevocation(store, revokers, rules, finding, options);
      } catch (error) {
        if (!(error instanceof ValueNeededError)) throw error;
        // Ask for the value only when it is needed: stdin is read only now.
        const secret = await readTokenIfGiven(values, io, "revoke");
        if (!secret) throw error;
        request = await requestRevocation(store, revokers, rules, finding, { ...options, secret });
      }
      if (request.state === "would-revoke") {
        io.stdout.write(
          values.json
            ? `${JSON.stringify(request.view, null, 2)}\n`
            : `would revoke ${finding.redacted} (finding #${id}) through ${request.view.provider}: ${request.call}\n`,
        );
        return 0;
      }
      if (request.state === "queued") {
        const worker = cliWorker(store, revokers, io);
        await worker.drain({ maxWaitMs: wait, jobIds: [request.jobId] });
      }
      const job = await revocationJob(store, finding.secretHash);
      const view =
        job && request.state === "queued" ? viewOfJob(job) : (await findingState(store, finding)).revocation;
      if (values.json) io.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
      else
        io.stdout.write(
          `finding #${id} ${finding.redacted}: ${describeRevocation(view, s)}${view?.provider ? ` via ${view.provider}` : ""}${
            view?.reason && view.status !== "revoked" ? `: ${view.reason}` : ""
          }\n`,
        );
      return view?.status === "revoked" || view?.status === "already-revoked" || view?.status === "cancelled"
        ? 0
        : 1;
    });
  },
};
