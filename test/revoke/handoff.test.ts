// A scan hands its revocations to the running worker: the job is written started under that worker in the
// scan's own transaction, and called once it commits, with no claim round; on both engines.
import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Registry } from "../../src/registry/registry.js";
import { actOnFindings } from "../../src/revoke/act.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { enqueueRevocations, REVOKE_KIND, revocationKey } from "../../src/revoke/queue.js";
import { type RevocationOutcome, RevocationWorker } from "../../src/revoke/worker.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import type { Store } from "../../src/store/index.js";
import { engines, engineTitle } from "../store/engines.js";
import { expectNotInFiles } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";
import { AUTH_ID, ENTRA, scanText } from "./harness.js";

const ADO = "https://vssps.dev.azure.com";
const TOKEN_ADMIN = "/contoso/_apis/tokenadmin/revocations";
const rules = loadRules([]);

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe.each(engines("handoff"))("revocations handed off on $name", (engine) => {
  afterAll(engine.cleanup);

  /** A running worker on a new database; it looks at the queue only when woken (or once a minute). */
  async function running(): Promise<{
    store: Store;
    worker: RevocationWorker;
    outcomes: RevocationOutcome[];
  }> {
    const store = await engine.open(engine.target());
    const revokers = createRevokers({}, { adoToken: ENTRA, timeoutMs: 2_000 });
    const worker = new RevocationWorker({ store, revokers, pollMs: 60_000 });
    const outcomes: RevocationOutcome[] = [];
    worker.onOutcome((o) => outcomes.push(o));
    worker.start();
    return { store, worker, outcomes };
  }

  /** What a scan that found `text` does, handing its calls to `worker` (whose providers it uses). */
  const act = (
    store: Store,
    worker: RevocationWorker,
    text: string,
    policy: "registered" | "all" = "registered",
  ) =>
    actOnFindings(store, worker.revokers, rules, scanText(text), {
      revoke: true,
      policy,
      handoff: worker.handoff(),
    });

  async function registerAdo(store: Store, pat: string): Promise<void> {
    await new Registry(store).add(new Secret(pat), { org: "contoso", authorizationId: AUTH_ID });
  }

  const actions = async (store: Store) => (await store.audit.list()).map((e) => e.action);

  const ended = async (outcomes: RevocationOutcome[], n = 1) => {
    for (let i = 0; i < 500 && outcomes.length < n; i++) await delay(10);
    return outcomes;
  };

  describe.skipIf(engine.missing)(engineTitle(engine), () => {
    it("is written running under the worker, its attempt audited, and called once the scan commits, with no claim", async () => {
      const { store, worker, outcomes } = await running();
      const pat = tokens(41).adoPat();
      await registerAdo(store, pat);
      const claims = vi.spyOn(store.jobs, "claim");
      let atCall: unknown[] = [];
      const scope = nock(ADO)
        .post(TOKEN_ADMIN, [{ authorizationId: AUTH_ID }])
        .query({ "api-version": "7.1" })
        .reply(async () => {
          atCall = await store.jobs.list();
          return [204, ""];
        });
      const acted = await act(store, worker, `pat: ${pat}\n`);
      // Nothing to wake the queue for: the call is this worker's already.
      expect(acted.pendingJobIds).toEqual([]);
      expect(acted.actions[0]?.revocation?.status).toBe("pending");
      expect(await ended(outcomes)).toEqual([expect.objectContaining({ outcome: "revoked", attempts: 1 })]);
      expect(scope.isDone()).toBe(true);
      expect(atCall).toEqual([
        expect.objectContaining({ kind: REVOKE_KIND, state: "running", owner: worker.owner, attempts: 1 }),
      ]);
      expect(claims).not.toHaveBeenCalled();
      expect(await actions(store)).toEqual([
        "registry.add",
        "revoke.enqueue",
        "revoke.attempt",
        "revoke.revoked",
      ]);
      expect((await store.jobs.list())[0]).toMatchObject({ state: "done", attempts: 1 });
      await worker.stop();
      await store.close();
    });

    it("a transaction that fails writes no job and gives every slot back", async () => {
      const { store, worker, outcomes } = await running();
      const pat = tokens(42).adoPat();
      await registerAdo(store, pat);
      // More failures than the provider's four call slots: a slot kept by one would leave none for the last.
      for (let i = 0; i < 5; i++)
        await expect(
          store.transaction(async (tx) => {
            await act(tx, worker, `pat: ${pat}\n`);
            throw new Error("the scan's transaction failed");
          }),
        ).rejects.toThrow("the scan's transaction failed");
      expect(await store.jobs.list()).toEqual([]);
      const claims = vi.spyOn(store.jobs, "claim");
      const scope = nock(ADO).post(TOKEN_ADMIN).query(true).reply(204);
      expect((await act(store, worker, `pat: ${pat}\n`)).pendingJobIds).toEqual([]);
      expect(await ended(outcomes)).toEqual([expect.objectContaining({ outcome: "revoked" })]);
      expect(scope.isDone()).toBe(true);
      expect(claims).not.toHaveBeenCalled();
      await worker.stop();
      await store.close();
    });

    it("queued outside any transaction, the jobs and their audit are written in one, and the call follows its commit", async () => {
      const { store, worker, outcomes } = await running();
      const pat = tokens(47).adoPat();
      const scope = nock(ADO)
        .post(TOKEN_ADMIN, [{ authorizationId: AUTH_ID }])
        .query(true)
        .reply(204);
      const revoker = worker.revokers.get("azure-devops");
      if (!revoker) throw new Error("no Azure DevOps revoker");
      const target = {
        secretHash: secretHash(pat),
        preview: "…test",
        org: "contoso",
        authorizationId: AUTH_ID,
      };
      const [queued] = await enqueueRevocations(
        store,
        [{ revoker, target, options: { tokenId: null, reason: "by hand" } }],
        worker.handoff(),
      );
      expect(queued).toMatchObject({ created: true, job: { state: "running", owner: worker.owner } });
      expect(await ended(outcomes)).toEqual([expect.objectContaining({ outcome: "revoked" })]);
      expect(scope.isDone()).toBe(true);
      expect(await actions(store)).toEqual(["revoke.enqueue", "revoke.attempt", "revoke.revoked"]);
      await worker.stop();
      await store.close();
    });

    it("one transaction that queues twice with one handoff audits each call's attempt once", async () => {
      const { store, worker, outcomes } = await running();
      const scope = nock(ADO).post(TOKEN_ADMIN).query(true).times(2).reply(204);
      const revoker = worker.revokers.get("azure-devops");
      if (!revoker) throw new Error("no Azure DevOps revoker");
      const request = (seed: number) => ({
        revoker,
        target: {
          secretHash: secretHash(tokens(seed).adoPat()),
          preview: `…${seed}`,
          org: "contoso",
          authorizationId: AUTH_ID,
        },
        options: { tokenId: null, reason: "by hand" },
      });
      const handoff = worker.handoff();
      await store.transaction(async (tx) => {
        await enqueueRevocations(tx, [request(48)], handoff);
        await enqueueRevocations(tx, [request(49)], handoff);
      });
      expect(await ended(outcomes, 2)).toHaveLength(2);
      expect(scope.isDone()).toBe(true);
      const attempts = (await store.audit.list()).filter((e) => e.action === "revoke.attempt");
      expect(attempts.map((e) => e.subject).sort()).toEqual(["job:1", "job:2"]);
      await worker.stop();
      await store.close();
    });

    it("a provider that revokes by value gets the value in hand, and it is erased from the job when done", async () => {
      const { store, worker, outcomes } = await running();
      const value = tokens(43).make("gitlab-pat-routable");
      const scope = nock("https://gitlab.com", { reqheaders: { "private-token": value } })
        .delete("/api/v4/personal_access_tokens/self")
        .reply(204);
      expect((await act(store, worker, `glpat: ${value}\n`, "all")).pendingJobIds).toEqual([]);
      expect(await ended(outcomes)).toEqual([
        expect.objectContaining({ outcome: "revoked", provider: "gitlab" }),
      ]);
      expect(scope.isDone()).toBe(true);
      expect((await store.jobs.list())[0]).toMatchObject({ state: "done", sealed: null });
      if (engine.name === "sqlite") expectNotInFiles([store.path], [value]);
      await worker.stop();
      await store.close();
    });

    it("a provider under a call budget goes through the queue: counted under its lock, then claimed", async () => {
      const { store, worker, outcomes } = await running();
      const claims = vi.spyOn(store.jobs, "claim");
      const scope = nock("https://api.github.com").post("/credentials/revoke").reply(202);
      const acted = await act(store, worker, `token: ${tokens(44).githubPat()}\n`, "all");
      expect(acted.pendingJobIds).toHaveLength(1);
      expect((await store.jobs.list())[0]).toMatchObject({ state: "pending", owner: null, attempts: 0 });
      worker.notify();
      expect(await ended(outcomes)).toEqual([
        expect.objectContaining({ outcome: "revoked", provider: "github" }),
      ]);
      expect(scope.isDone()).toBe(true);
      expect(claims).toHaveBeenCalled();
      await worker.stop();
      await store.close();
    });

    it("a job handed off to a worker that died is resumed by another", async () => {
      const store = await engine.open(engine.target());
      const pat = tokens(45).adoPat();
      await registerAdo(store, pat);
      const dead = `${hostname()}:${spawnSync(process.execPath, ["-e", ""]).pid}:deadbeef`;
      const hash = secretHash(pat);
      await store.jobs.enqueueMany([
        {
          kind: REVOKE_KIND,
          key: revocationKey(hash),
          queue: "azure-devops",
          payload: {
            secretHash,
            preview: "…",
            tokenId: 1,
            org: "contoso",
            authorizationId: AUTH_ID,
            minted: false,
          },
          maxAttempts: 6,
          startedBy: { owner: dead, leaseUntil: new Date(Date.now() + 3_600_000).toISOString() },
        },
      ]);
      expect((await store.jobs.list())[0]).toMatchObject({ state: "running", owner: dead, attempts: 1 });
      const scope = nock(ADO).post(TOKEN_ADMIN).query(true).reply(204);
      const worker = new RevocationWorker({ store, revokers: createRevokers({}, { adoToken: ENTRA }) });
      await worker.runDue();
      expect(scope.isDone()).toBe(true);
      expect((await store.jobs.list())[0]).toMatchObject({ state: "done", attempts: 2 });
      expect(await actions(store)).toContain("revoke.resume");
      await store.close();
    });

    it("stopping the worker waits for a handoff whose transaction is still open, and its call", async () => {
      const { store, worker, outcomes } = await running();
      const pat = tokens(46).adoPat();
      await registerAdo(store, pat);
      const scope = nock(ADO).post(TOKEN_ADMIN).query(true).reply(204);
      let commit: () => void = () => {};
      let queued: () => void = () => {};
      const inTransaction = new Promise<void>((resolve) => (queued = resolve));
      const scan = store.transaction(async (tx) => {
        await act(tx, worker, `pat: ${pat}\n`);
        queued();
        await new Promise<void>((resolve) => (commit = resolve));
      });
      await inTransaction;
      const stopped = worker.stop().then(() => "stopped");
      expect(await Promise.race([stopped, delay(100).then(() => "waiting")])).toBe("waiting");
      commit();
      await scan;
      expect(await stopped).toBe("stopped");
      expect(scope.isDone()).toBe(true);
      expect(outcomes).toEqual([expect.objectContaining({ outcome: "revoked" })]);
      // A stopped worker takes no handoff.
      expect(worker.handoff()).toBeUndefined();
      await store.close();
    });
  });
});
