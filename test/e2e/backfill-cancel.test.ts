// Taking repositories away from the App cancels their backfills, end to end on each engine: the real
// `leakwarden serve` receiving signed installation webhooks, git over HTTP from the stand-in, the GitHub and
// Azure DevOps stand-ins. A queued backfill never calls GitHub for its repository; a running one stops.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALLATION, REPOSITORY, type Scenario, startScenario } from "../../src/demo/scenario.js";
import { TEST_KEY } from "../store/engines.js";
import { expectNotInText } from "../support/plaintext.js";
import { createSchema, dropSchema, freshSchema, postgresMissing, urlForSchema } from "../support/postgres.js";
import { revocationsOf as adoRevocations, registerAdoPat } from "../support/scenario.js";
import { tokens } from "../support/tokens.js";

const execGit = promisify(execFile);
const OTHER = "acme/other";
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Old Timer",
  GIT_AUTHOR_EMAIL: "old@example.com",
  GIT_COMMITTER_NAME: "Old Timer",
  GIT_COMMITTER_EMAIL: "old@example.com",
};

interface Audit {
  action: string;
  subject: string;
  detail: Record<string, unknown>;
}

function suite(engine: "sqlite" | "postgres") {
  const t = tokens(engine === "sqlite" ? 20261201 : 20261202);
  const pats = {
    app: t.adoPat(),
    other: t.adoPat(),
    running: t.adoPat(),
    suspended: t.adoPat(),
    lost: t.adoPat(),
  };
  const ids = {
    app: randomUUID(),
    other: randomUUID(),
    running: randomUUID(),
    suspended: randomUUID(),
    lost: randomUUID(),
  };
  const schema = freshSchema("cancel");
  let scenario: Scenario;
  let work: string;
  let removal: { payload: Record<string, unknown>; delivery: string };

  const git = async (cwd: string, ...args: string[]) =>
    (await execGit("git", args, { cwd, env: gitEnv, encoding: "utf8" })).stdout.trim();

  /** Commits a file on a new branch of `repository` (a served bare repository) and pushes it straight in. */
  async function leak(repository: string, branch: string, file: string, text: string) {
    const served = join(scenario.dir, "served", `${repository}.git`);
    const dir = join(work, `${repository.replace("/", "-")}-${branch}`);
    await git(work, "clone", "--quiet", served, dir);
    await git(dir, "checkout", "--quiet", "-b", branch);
    writeFileSync(join(dir, file), text);
    await git(dir, "add", "-A");
    await git(dir, "commit", "--quiet", "-m", `Add ${file}`);
    await git(dir, "push", "--quiet", "origin", branch);
  }

  const revocationsOf = (id: string) => adoRevocations(scenario, id);
  const health = async () =>
    (await (await fetch(`${scenario.appUrl}/healthz`)).json()) as {
      queue: {
        backfill: { repositories: Record<string, number> } & Record<string, number>;
        reports: Record<string, number>;
      };
    };
  const status = async () => {
    const result = await scenario.cli(["backfill", "--status", "--json"]);
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, number>;
  };
  const audit = async (action: string) => {
    const result = await scenario.cli(["audit", "list", "--json", "--action", action]);
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Audit[];
  };
  const historyIssues = () =>
    scenario.github.issues.filter((i) => /in the repository's history$/.test(i.title));
  /** Every request that reached the GitHub stand-in (API or git) naming a repository. */
  const requestsFor = (repository: string) => [
    ...scenario.github.requests.filter((r) => r.path.includes(`/${repository}`)),
    ...scenario.github.gitRequests.filter((r) => r.url.includes(`/${repository}.git`)),
  ];
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));
  /** Polls an asynchronous check (the CLI, /healthz) until it returns a value. */
  async function eventually<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    timeoutMs = 30_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}:\n${scenario.output().slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  function repositoryEntry(fullName: string, id: number) {
    return { id, node_id: `R_${id}`, name: fullName.split("/")[1], full_name: fullName, private: true };
  }
  function installationPayload(action: string, repositories?: string[]) {
    return {
      action,
      installation: { id: INSTALLATION, account: { login: "acme", id: 2, type: "Organization" } },
      ...(repositories ? { repositories: repositories.map((r, i) => repositoryEntry(r, i + 1)) } : {}),
      sender: { login: "olivia-owner", id: 4, type: "User" },
    };
  }
  function removedPayload(repositories: string[]) {
    return {
      action: "removed",
      installation: { id: INSTALLATION, account: { login: "acme", id: 2, type: "Organization" } },
      repository_selection: "selected",
      repositories_added: [],
      repositories_removed: repositories.map((r, i) => repositoryEntry(r, i + 10)),
      sender: { login: "olivia-owner", id: 4, type: "User" },
    };
  }

  describe.skipIf(engine === "postgres" && postgresMissing)(
    `on ${engine}${engine === "postgres" && postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
    () => {
      beforeAll(async () => {
        if (engine === "postgres") await createSchema(schema);
        scenario = await startScenario(
          engine === "postgres"
            ? { env: { LEAKWARDEN_DATABASE_URL: urlForSchema(schema), LEAKWARDEN_KEY: TEST_KEY } }
            : {},
        );
        for (const name of Object.keys(pats) as (keyof typeof pats)[]) {
          await registerAdoPat(scenario, pats[name], ids[name], ["--name", name]);
        }
        // Histories from before the App was installed, each with a registered leak: a backfill that ran would
        // revoke it and open a summary issue.
        work = mkdtempSync(join(tmpdir(), "leakwarden-cancel-work-"));
        const other = join(scenario.dir, "served", `${OTHER}.git`);
        await git(work, "init", "--quiet", "--bare", "--initial-branch=main", other);
        const seed = join(work, "seed");
        await git(work, "init", "--quiet", "--initial-branch=main", seed);
        await git(seed, "commit", "--quiet", "--allow-empty", "-m", "Initial commit");
        await git(seed, "push", "--quiet", other, "main");
        scenario.github.repositories.set(OTHER, { visibility: "private" });
        await leak(REPOSITORY, "old/app", "app.env", `AZURE_DEVOPS_PAT=${pats.app}\n`);
        await leak(OTHER, "old/other", "other.env", `AZURE_DEVOPS_PAT=${pats.other}\n`);
      }, 90_000);

      afterAll(async () => {
        await scenario?.stop();
        if (work) rmSync(work, { recursive: true, force: true });
        if (engine === "postgres") await dropSchema(schema);
      });

      it("a queued backfill whose repository is removed never calls GitHub for it and opens no issue", async () => {
        // One backfill at a time per installation: acme/app runs (its fetch held), acme/other waits behind it.
        const held = scenario.github.holdNextFetch();
        const installed = await scenario.deliver(
          "installation",
          installationPayload("created", [REPOSITORY, OTHER]),
        );
        expect(installed.status).toBe(200);
        await held.reached;
        expect((await status()).queued).toBe(1);

        removal = { payload: removedPayload([OTHER]), delivery: randomUUID() };
        const removed = await scenario.deliver("installation_repositories", removal.payload, {
          delivery: removal.delivery,
        });
        expect(removed.status, removed.text).toBe(200);
        expect(await status()).toMatchObject({ queued: 0, running: 1, cancelled: 1 });
        const cancels = await audit("backfill.cancel");
        expect(cancels).toEqual([
          expect.objectContaining({
            subject: OTHER,
            detail: expect.objectContaining({ was: "queued", cause: "repositories removed" }),
          }),
        ]);

        held.release();
        const issue = await scenario.until("acme/app's summary issue", () => historyIssues()[0], 60_000);
        expect(issue.body).toContain(`\`…${pats.app.slice(-4)}\``);
        await scenario.until("acme/app's revocation", () => revocationsOf(ids.app).length > 0);
        await eventually("acme/app's backfill to end", async () => (await status()).done === 1);
        await settle();

        expect(requestsFor(OTHER)).toEqual([]);
        expect(
          scenario.github.issues.filter((i) => i.body.includes(OTHER) || i.repository === OTHER),
        ).toEqual([]);
        expect(historyIssues()).toHaveLength(1);
        expect(revocationsOf(ids.other)).toHaveLength(0);
        const { queue } = await health();
        expect(queue.backfill).toMatchObject({
          pending: 0,
          running: 0,
          repositories: { queued: 0, running: 0, done: 1, cancelled: 1 },
        });
      });

      it("a redelivered removal does nothing more", async () => {
        const again = await scenario.deliver("installation_repositories", removal.payload, {
          delivery: removal.delivery,
        });
        expect(again.status).toBe(200);
        // A new delivery of the same removal finds nothing left to cancel.
        expect((await scenario.deliver("installation_repositories", removal.payload)).status).toBe(200);
        expect(await audit("backfill.cancel")).toHaveLength(1);
        expect(await status()).toMatchObject({ cancelled: 1, done: 1 });
      });

      it("a running backfill whose repository is removed stops: no summary issue, nothing lost", async () => {
        await leak(REPOSITORY, "old/running", "running.env", `AZURE_DEVOPS_PAT=${pats.running}\n`);
        const held = scenario.github.holdNextFetch();
        const queued = await scenario.cli(["backfill", REPOSITORY, "--installation", String(INSTALLATION)]);
        expect(queued.status, queued.stderr).toBe(0);
        await held.reached;
        expect(await status()).toMatchObject({ running: 1 });

        const removed = await scenario.deliver("installation_repositories", removedPayload([REPOSITORY]));
        expect(removed.status, removed.text).toBe(200);
        expect(await status()).toMatchObject({ running: 0, cancelled: 2 });
        held.release();

        const stops = await eventually("the backfill to stop", async () => {
          const found = await audit("backfill.stop");
          return found.length > 0 ? found : undefined;
        });
        expect(stops).toEqual([
          expect.objectContaining({
            subject: REPOSITORY,
            detail: expect.objectContaining({ checkpoint: "after the fetch" }),
          }),
        ]);
        await settle();
        expect(historyIssues()).toHaveLength(1);
        expect(revocationsOf(ids.running)).toHaveLength(0);
        expect((await audit("backfill.cancel")).map((e) => [e.subject, e.detail.was])).toEqual([
          [OTHER, "queued"],
          [REPOSITORY, "running"],
        ]);
        // The first backfill's findings and counts are still there.
        expect(revocationsOf(ids.app)).toHaveLength(1);
        const { queue } = await health();
        expect(queue.backfill).toMatchObject({
          running: 0,
          repositories: { running: 0, done: 1, cancelled: 2 },
        });
        expect(queue.backfill.repositories.commitsScanned).toBeGreaterThanOrEqual(2);
        const text = await scenario.cli(["backfill", "--status"]);
        expect(text.stdout).toMatch(/0 running, 1 done, 0 failed, 2 cancelled/);
      });

      it("deleting the installation cancels its listing and its running backfill", async () => {
        const listings = () =>
          scenario.github.requests.filter((r) => r.path === "/api/v3/installation/repositories").length;
        const before = listings();
        const held = scenario.github.holdNextFetch();
        expect(
          (await scenario.cli(["backfill", REPOSITORY, "--installation", String(INSTALLATION)])).status,
        ).toBe(0);
        await held.reached;
        // Waits behind the running backfill (one per installation at a time).
        expect((await scenario.cli(["backfill", "--installation", String(INSTALLATION)])).status).toBe(0);

        const deleted = await scenario.deliver("installation", installationPayload("deleted"));
        expect(deleted.status, deleted.text).toBe(200);
        held.release();
        await eventually("the backfill to stop", async () => (await audit("backfill.stop")).length === 2);
        await settle();
        expect(listings()).toBe(before);
        expect(historyIssues()).toHaveLength(1);
        const cancels = (await audit("backfill.cancel")).slice(2);
        expect(cancels.map((e) => [e.subject, e.detail.cause])).toEqual([
          [REPOSITORY, "installation deleted"],
          [`installation:${INSTALLATION}`, "installation deleted"],
        ]);
        expect((await health()).queue.backfill).toMatchObject({
          pending: 0,
          running: 0,
          repositories: { queued: 0, running: 0, done: 1, cancelled: 3 },
        });
      });

      it("unsuspending the installation backfills it again, and the summary lists only what is new", async () => {
        expect((await scenario.deliver("installation", installationPayload("suspend"))).status).toBe(200);
        // GitHub delivers no push to a suspended installation: this leak reaches the App by no webhook.
        await leak(REPOSITORY, "old/suspended", "suspended.env", `AZURE_DEVOPS_PAT=${pats.suspended}\n`);
        const unsuspended = await scenario.deliver("installation", installationPayload("unsuspend"));
        expect(unsuspended.status, unsuspended.text).toBe(200);

        const issue = await scenario.until("the summary after unsuspend", () => historyIssues()[1], 60_000);
        await scenario.until("the new leak's revocation", () => revocationsOf(ids.suspended).length > 0);
        // The leak of the backfill stopped earlier is new too; the one reported before is not listed again.
        expect(issue.body).toContain(`\`…${pats.suspended.slice(-4)}\``);
        expect(issue.body).toContain(`\`…${pats.running.slice(-4)}\``);
        expect(issue.body).not.toContain(`\`…${pats.app.slice(-4)}\``);
        await settle();
        expect(historyIssues()).toHaveLength(2);
        expect(revocationsOf(ids.app)).toHaveLength(1);
        expect(revocationsOf(ids.running)).toHaveLength(1);
        expect(revocationsOf(ids.suspended)).toHaveLength(1);
        const queued = (await audit("backfill.queue")).filter(
          (e) => e.detail.trigger === `delivery:${unsuspended.delivery}`,
        );
        expect(queued.map((e) => e.subject)).toEqual([`installation:${INSTALLATION}`]);
      });

      it("a summary issue for a repository the App lost meanwhile is cancelled at its first 404", async () => {
        await leak(OTHER, "old/lost", "lost.env", `AZURE_DEVOPS_PAT=${pats.lost}\n`);
        const held = scenario.github.holdNextFetch();
        expect((await scenario.cli(["backfill", OTHER, "--installation", String(INSTALLATION)])).status).toBe(
          0,
        );
        await held.reached;
        // Taken away while its history is scanned, before its webhook arrives: the summary finds it gone.
        scenario.github.unreachable.add(OTHER);
        held.release();

        const [cancel] = await eventually("the report's cancellation", async () => {
          const found = await audit("report.cancel");
          return found.length > 0 ? found : undefined;
        });
        expect(cancel?.detail).toMatchObject({ attempts: 1 });
        expect(String(cancel?.detail.reason)).toContain(`can no longer see ${OTHER}`);
        // Revocation does not depend on the report: both leaks in its history are dead.
        await scenario.until("the revocations", () => revocationsOf(ids.lost).length > 0);
        expect(revocationsOf(ids.other)).toHaveLength(1);
        await settle();
        expect(await audit("report.cancel")).toHaveLength(1);
        expect(scenario.github.issues.filter((i) => i.repository === OTHER)).toEqual([]);
        // Nothing left stuck: the queue empties (a comment on an earlier test's issue, as its tokens' live
        // checks confirm them, may still be running when this one ends).
        const reports = await eventually("the report queue to empty", async () => {
          const queue = (await health()).queue.reports;
          return queue.pending === 0 && queue.running === 0 ? queue : undefined;
        });
        expect(reports).toMatchObject({ pending: 0, running: 0, failed: 0 });
      });

      it("keeps every token out of the log and the issues", () => {
        expectNotInText([scenario.output()], [...Object.values(pats), scenario.github.installationToken]);
        expectNotInText(
          scenario.github.issues.flatMap((i) => [i.title, i.body, ...i.comments]),
          Object.values(pats),
        );
      });
    },
  );
}

suite("sqlite");
suite("postgres");
