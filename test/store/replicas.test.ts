// Replicas on one PostgreSQL database, in one test process: two stores on one schema are two replicas' views.
// The GitHub stand-in is nock; everything else is real (PostgreSQL, the queue, the worker, LISTEN/NOTIFY).
import { sql } from "kysely";
import nock from "nock";
import postgres from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { BUSY_ELSEWHERE_MS, BusyElsewhere, StageRunner } from "../../src/jobs/stage.js";
import { actOnFindings } from "../../src/revoke/act.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { RevocationWorker } from "../../src/revoke/worker.js";
import { loadRules } from "../../src/scan/rules.js";
import type { Store } from "../../src/store/index.js";
import { PRIORITY } from "../../src/store/jobs.js";
import { scanText } from "../revoke/harness.js";
import { postgresMissing } from "../support/postgres.js";
import { tokens } from "../support/tokens.js";
import { type Engine, engines } from "./engines.js";

const pg = engines("replicas")[1] as Engine;
afterAll(pg.cleanup);
beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

async function twoReplicas(): Promise<[Store, Store]> {
  const target = pg.target();
  const a = await pg.open(target);
  const b = await pg.open(target);
  return [a, b];
}

/** What a listener hears: the kind, and the job's key when the wake was for one job. */
const heardAs = (heard: string[]) => (kind: string, key?: string) =>
  heard.push(key === undefined ? kind : `${kind} ${key}`);

/** The statements `fn` sends to the server, BEGIN and COMMIT included: each is a round trip. */
async function countRoundTrips(fn: () => Promise<void>): Promise<number> {
  const query = postgres.Client.prototype.query;
  let n = 0;
  postgres.Client.prototype.query = function (this: postgres.Client, ...args: unknown[]) {
    n++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await fn();
  } finally {
    postgres.Client.prototype.query = query;
  }
  return n;
}

/** Queues a job of `kind` in a transaction that then rolls back: no job, and no notification. */
async function queueRolledBack(store: Store, kind: string): Promise<void> {
  await expect(
    store.transaction(async (tx) => {
      await tx.jobs.enqueue({ kind, key: `${kind}:rolled-back`, queue: kind, payload: {}, maxAttempts: 1 });
      throw new Error("rolled back");
    }),
  ).rejects.toThrow("rolled back");
}

describe.skipIf(postgresMissing)(
  `replicas on one PostgreSQL database${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    it("share GitHub's 60 calls an hour: with one call left, two replicas racing make one call", async () => {
      const [a, b] = await twoReplicas();
      const now = new Date().toISOString();
      for (let i = 0; i < 59; i++)
        await sql`INSERT INTO audit (at, actor, action, provider) VALUES (${now}, 'earlier', 'revoke.attempt', 'github')`.execute(
          a.db,
        );
      const revokers = createRevokers({});
      const t = tokens(909);
      await actOnFindings(a, revokers, loadRules([]), scanText(`A=${t.githubPat()}\nB=${t.githubPat()}\n`), {
        revoke: true,
        policy: "all",
      });
      let calls = 0;
      nock("https://api.github.com")
        .post("/credentials/revoke")
        .times(2)
        .reply(() => {
          calls++;
          return [202, {}];
        });
      // Each replica takes one job, and both call at once.
      const workers = [a, b].map((store) => new RevocationWorker({ store, revokers, claimLimit: 1 }));
      await Promise.all(workers.map((w) => w.runDue()));
      expect(calls).toBe(1);
      expect(await a.audit.countSince("revoke.attempt", "github", "2000-01-01")).toMatchObject({ count: 60 });
      const jobs = await a.jobs.list({ kind: "revoke" });
      expect(jobs.map((j) => j.state).sort()).toEqual(["done", "pending"]);
      // The one left waits for the hour to free a call, without an attempt spent.
      const waiting = jobs.find((j) => j.state === "pending");
      expect(waiting?.attempts).toBe(0);
      expect(Date.parse(waiting?.runAfter ?? "")).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
      await a.close();
      await b.close();
    });

    it("a job queued on one replica wakes an idle one at once (LISTEN/NOTIFY), and a rolled-back one does not", async () => {
      const [a, b] = await twoReplicas();
      const heard: string[] = [];
      const listener = await a.listenForJobs(heardAs(heard));
      await queueRolledBack(b, "scan");
      // Queued and notified in one statement.
      expect(
        await countRoundTrips(async () => {
          await b.jobs.enqueue({ kind: "scan", key: "scan:1", queue: "scan", payload: {}, maxAttempts: 1 });
        }),
      ).toBe(1);
      const deadline = Date.now() + 5_000;
      while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // One job: its key comes with the kind, so a stage busy with that job's repository need not look.
      expect(heard).toEqual(["scan scan:1"]);
      await listener?.stop();
      await a.close();
      await b.close();
    });

    it("a replica's own jobs wake it in process once they commit, each kind once, and never again from the server", async () => {
      const [a, b] = await twoReplicas();
      const heard: string[] = [];
      const listener = await a.listenForJobs(heardAs(heard));
      // Outside a transaction: heard as soon as the write returns, before any round trip back from the server.
      await a.jobs.enqueue({ kind: "scan", key: "scan:own", queue: "scan", payload: {}, maxAttempts: 1 });
      expect(heard).toEqual(["scan scan:own"]);
      // Rolled back: nothing. Committed: each kind once, after the commit, however many jobs it queued.
      await queueRolledBack(a, "report");
      const seenInside: string[][] = [];
      await a.transaction(async (tx) => {
        for (const key of ["revoke:1", "revoke:2"])
          await tx.jobs.enqueue({ kind: "revoke", key, queue: "github", payload: {}, maxAttempts: 1 });
        await tx.jobs.enqueue({ kind: "report", key: "report:1", queue: "r", payload: {}, maxAttempts: 1 });
        seenInside.push([...heard]);
      });
      expect(seenInside).toEqual([["scan scan:own"]]);
      // Two jobs of a kind: the wake is for the kind. One job: for it.
      expect(heard).toEqual(["scan scan:own", "revoke", "report report:1"]);
      // The server sends this replica's notifications back too; they are skipped. Another replica's arrive
      // after them (in commit order), so once B's marker is heard, anything of A's would have been.
      await b.jobs.enqueue({ kind: "marker", key: "marker:own", queue: "m", payload: {}, maxAttempts: 1 });
      const deadline = Date.now() + 5_000;
      while (!heard.includes("marker marker:own") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual(["scan scan:own", "revoke", "report report:1", "marker marker:own"]);
      await listener?.stop();
      await a.close();
      await b.close();
    });

    it("a transaction's notification goes with its COMMIT, in that round trip, and is heard once it commits", async () => {
      const [a, b] = await twoReplicas();
      const heard: string[] = [];
      const listener = await a.listenForJobs(heardAs(heard));
      await b.deliveries.count(); // B's connection is open: its set-up is not counted below
      // A key the payload's literal must escape: a quote and a backslash.
      const key = "scan:o'brien\\x";
      const roundTrips = await countRoundTrips(() =>
        b.transaction(async (tx) => {
          await tx.jobs.enqueue({ kind: "scan", key, queue: "scan", payload: {}, maxAttempts: 1 });
        }),
      );
      // BEGIN, the INSERT, and the COMMIT carrying the notification.
      expect(roundTrips).toBe(3);
      const deadline = Date.now() + 5_000;
      while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual([`scan ${key}`]);
      expect((await a.jobs.byKey(key))?.state).toBe("pending");
      await listener?.stop();
      await a.close();
      await b.close();
    });

    it("a webhook delivery is accepted in one round trip, waking its replica in process and the other through the server", async () => {
      const [a, b] = await twoReplicas();
      await b.jobs.enqueue({
        kind: "scan",
        key: "scan:backfilled",
        queue: "scan",
        payload: {},
        maxAttempts: 1,
        priority: PRIORITY.bulk,
      });
      const heardByA: string[] = [];
      const heardByB: string[] = [];
      const listeners = [await a.listenForJobs(heardAs(heardByA)), await b.listenForJobs(heardAs(heardByB))];
      const job = (key: string) => ({ kind: "scan", key, queue: "scan", payload: { key }, maxAttempts: 5 });
      const delivery = (id: string) => ({ id, event: "push", repository: "acme/app" });
      await a.deliveries.count(); // A's connection is open: its set-up is not counted below
      const roundTrips = await countRoundTrips(async () => {
        expect(await a.acceptDelivery(delivery("d-1"), job("scan:push"))).toBe("queued");
      });
      expect(roundTrips).toBe(1);
      // Heard by A as the statement returns; by B once the server passes it on.
      expect(heardByA).toEqual(["scan scan:push"]);
      // A delivery finding a waiting job of a less urgent kind moves it up, and wakes for it.
      expect(await a.acceptDelivery(delivery("d-2"), job("scan:backfilled"))).toBe("already-queued");
      expect((await a.jobs.byKey("scan:backfilled"))?.priority).toBe(PRIORITY.live);
      // Seen before: nothing queued, nothing woken, whichever replica sees it again.
      expect(await b.acceptDelivery(delivery("d-1"), job("scan:other"))).toBe("duplicate-delivery");
      expect(await b.jobs.byKey("scan:other")).toBeUndefined();
      await b.jobs.enqueue({ kind: "marker", key: "marker:1", queue: "m", payload: {}, maxAttempts: 1 });
      const deadline = Date.now() + 5_000;
      while (!heardByA.includes("marker marker:1") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(heardByA).toEqual(["scan scan:push", "scan scan:backfilled", "marker marker:1"]);
      expect(heardByB).toEqual(["scan scan:push", "scan scan:backfilled", "marker marker:1"]);
      const [pushJob, backfilled] = [await a.jobs.byKey("scan:push"), await a.jobs.byKey("scan:backfilled")];
      expect(pushJob).toMatchObject({ state: "pending", payload: { key: "scan:push" }, maxAttempts: 5 });
      expect((await a.deliveries.byId("d-1"))?.jobId).toBe(pushJob?.id);
      expect((await a.deliveries.byId("d-2"))?.jobId).toBe(backfilled?.id);
      for (const listener of listeners) await listener?.stop();
      await a.close();
      await b.close();
    });

    it("one delivery accepted by both replicas at once queues one job, once", async () => {
      const [a, b] = await twoReplicas();
      for (let round = 0; round < 5; round++) {
        const delivery = { id: `d-race-${round}`, event: "push", repository: "acme/app" };
        const job = { kind: "scan", key: `scan:race-${round}`, queue: "scan", payload: {}, maxAttempts: 5 };
        const outcomes = await Promise.all(
          [a, b, a, b, a, b].map((replica) => replica.acceptDelivery(delivery, job)),
        );
        expect(outcomes.filter((o) => o === "queued")).toHaveLength(1);
        expect(await a.deliveries.byId(delivery.id)).toBeDefined();
      }
      const jobs = await sql<{ n: string }>`SELECT count(*) AS n FROM jobs WHERE kind = 'scan'`.execute(a.db);
      expect(Number(jobs.rows[0]?.n)).toBe(5);
      await a.close();
      await b.close();
    });

    it("a job given back due now wakes its own kind's workers; one put off to later wakes none", async () => {
      const [a, b] = await twoReplicas();
      for (const key of ["confirm:later", "confirm:now"])
        await b.jobs.enqueue({ kind: "confirm", key, queue: "confirm", payload: {}, maxAttempts: 3 });
      const [later, now] = await b.jobs.claim({ kind: "confirm", owner: "b", leaseMs: 60_000, limit: 2 });
      const heard: string[] = [];
      const listener = await a.listenForJobs(heardAs(heard));
      await b.jobs.release([later?.id as number], "b", new Date(Date.now() + 60_000).toISOString());
      await b.jobs.release([now?.id as number], "b", new Date(Date.now() - 1_000).toISOString());
      const deadline = Date.now() + 5_000;
      while (heard.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // Anything more would have come with it: notifications arrive in order.
      await b.jobs.enqueue({ kind: "marker", key: "marker:1", queue: "marker", payload: {}, maxAttempts: 1 });
      while (!heard.includes("marker marker:1") && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      // A job given back wakes the kind: it may be anyone's.
      expect(heard).toEqual(["confirm", "marker marker:1"]);
      await listener?.stop();
      await a.close();
      await b.close();
    });

    it("a replica that died mid-job: another takes the job over when its lease runs out, without polling", async () => {
      const [a, b] = await twoReplicas();
      await a.jobs.enqueue({ kind: "work", key: "work:1", queue: "work", payload: {}, maxAttempts: 3 });
      // Replica A claims it, then dies: it never finishes and never gives it back.
      expect(
        await a.jobs.claim({ kind: "work", owner: "other-host:1:deadbeef", leaseMs: 400, limit: 1 }),
      ).toHaveLength(1);
      await a.close();
      const ran: number[] = [];
      const started = Date.now();
      const runner = new StageRunner<unknown>({
        store: b,
        kind: "work",
        // An idle look once a minute: only the lease's end can wake it in time.
        pollMs: 60_000,
        handle: async (job) => {
          ran.push(job.id);
        },
      });
      runner.start();
      const deadline = Date.now() + 5_000;
      while (ran.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await runner.stop();
      expect(ran).toEqual([1]);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await b.jobs.byId(1)).toMatchObject({ state: "done", attempts: 1 });
      await b.close();
    });

    it("a named lock is held across replicas: the second is told at once, and gets it once the first is done", async () => {
      const [a, b] = await twoReplicas();
      let release: () => void = () => {};
      const holding = a.locks.tryWith("scan:acme/app", () => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 100));
      expect(await b.locks.tryWith("scan:acme/app", async () => "ran")).toEqual({ held: false });
      expect(await b.locks.tryWith("scan:acme/other", async () => "ran")).toEqual({
        held: true,
        value: "ran",
      });
      release();
      expect(await holding).toMatchObject({ held: true });
      expect(await b.locks.tryWith("scan:acme/app", async () => "ran")).toEqual({ held: true, value: "ran" });
      await a.close();
      await b.close();
    });

    it("a batch whose lock another replica holds goes back unspent, and is left to that replica for a moment", async () => {
      const [a, b] = await twoReplicas();
      const kind = "busy-test";
      for (const n of [1, 2])
        await a.jobs.enqueue({ kind, key: `repo:x:${n}`, queue: kind, payload: {}, maxAttempts: 3 });
      const handled: string[] = [];
      // What the scan stage does (pipeline.ts): the repository's lock, or BusyElsewhere when another holds it.
      const runner = (store: Store, name: string) =>
        new StageRunner<unknown>({
          store,
          kind,
          concurrency: 1,
          handle: async () => {},
          batch: {
            exclusive: async (_job, work) => {
              if (!(await store.locks.tryWith("scan:x", work)).held) throw new BusyElsewhere("repo:x:");
            },
            companions: (job, claim) =>
              store.jobs.claimSiblings({
                kind,
                ...claim,
                keyPrefix: "repo:x:",
                maxPriority: job.priority,
                limit: 9,
              }),
            handle: async (jobs) => {
              handled.push(...jobs.map((j) => `${name} ${j.key}`));
              return jobs.map(() => undefined);
            },
          },
        });
      // Replica a is scanning repository x.
      let release: () => void = () => {};
      const holding = a.locks.tryWith("scan:x", () => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 100));
      const onB = runner(b, "b");
      expect(await onB.fill()).toBe(1);
      await onB.stop();
      // Given back as it was: no attempt spent, due now, and b leaves x alone for a while.
      expect(await b.jobs.byKey("repo:x:1")).toMatchObject({ state: "pending", attempts: 0, owner: null });
      expect(await onB.fill()).toBe(0);
      expect(BUSY_ELSEWHERE_MS).toBeGreaterThan(1_000);
      // The holder takes both, together, once its scan is done.
      release();
      await holding;
      await runner(a, "a").drain(5_000);
      expect(handled).toEqual(["a repo:x:1", "a repo:x:2"]);
      expect(await a.jobs.byKey("repo:x:2")).toMatchObject({ state: "done", attempts: 1 });
      await a.close();
      await b.close();
    });
  },
);
