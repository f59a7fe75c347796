import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import nock from "nock";
import pino from "pino";
import { Probot } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { registerHandlers } from "../../src/app/handlers.js";
import { isPublicRepository, SCAN_KIND, type ScanPayload, visibilityOf } from "../../src/app/scan-jobs.js";
import { payloadProblem } from "../../src/app/webhook-payloads.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";
import { TestOctokit, testProbot } from "../support/probot.js";
import { tokens } from "../support/tokens.js";

// Real payloads that GitHub sent, from @octokit/webhooks-examples.
interface Example {
  action?: string;
  ref?: string;
  before?: string;
  after?: string;
  deleted?: boolean;
  installation?: { id: number };
  repository: { full_name: string };
  workflow_run?: { id: number; run_attempt: number; html_url: string };
}
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Example[];
}[];
const payloads = (name: string) => examples.find((e) => e.name === name)?.examples ?? [];
const found = (example: Example | undefined): Example => {
  if (!example) throw new Error("no such example payload");
  return example;
};
const push = found(
  payloads("push").find((p) => p.installation && !p.deleted && p.ref === "refs/heads/master"),
);
const deletion = found(payloads("push").find((p) => p.installation && p.deleted));
const completedRun = {
  ...found(payloads("workflow_run").find((p) => p.action === "completed")),
  installation: { id: 7 },
};
const requestedRun = {
  ...found(payloads("workflow_run").find((p) => p.action === "requested")),
  installation: { id: 7 },
};
const run = completedRun.workflow_run as NonNullable<Example["workflow_run"]>;

const dir = tempDir();
const store = await openStore({ path: join(dir.path, "app.db"), env: {} });
const probot = testProbot();
let wakeUps = 0;
let textWakeUps = 0;
const wokenFor: string[] = [];
registerHandlers(probot, store, {
  scans: (key) => {
    wakeUps++;
    wokenFor.push(key);
  },
  texts: () => textWakeUps++,
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  // Handlers only wire: they never call GitHub.
  expect(nock.pendingMocks()).toEqual([]);
});
afterAll(async () => {
  await store.close();
  dir.remove();
});

const scanJobs = () => store.jobs.list<ScanPayload>({ kind: SCAN_KIND });

describe("the push handler", () => {
  it("records the delivery and queues one scan job", async () => {
    await probot.receive({ id: "delivery-1", name: "push", payload: push as never });
    const jobs = await scanJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.payload).toMatchObject({
      type: "push",
      installation: push.installation?.id,
      ref: "refs/heads/master",
      before: push.before,
      after: push.after,
      repository: { fullName: push.repository.full_name },
    });
    // Whether its breach may be reported in the repository depends on this (report-routing.ts).
    const sent = push.repository as { private?: boolean; visibility?: string };
    expect(jobs[0]?.payload.repository.visibility).toBe(
      sent.visibility ?? (sent.private ? "private" : "public"),
    );
    expect((await store.deliveries.byId("delivery-1"))?.jobId).toBe(jobs[0]?.id);
    expect(wakeUps).toBe(1);
    // For that job: a stage busy with the repository's batch need not look (StageRunner.notify).
    expect(wokenFor).toEqual([jobs[0]?.key]);
    // Only the scan stage is woken: a text stage round is queries for nothing (a burst of pushes, many rounds).
    expect(textWakeUps).toBe(0);
  });

  it("does nothing for a redelivery, nor for a second delivery of the same push", async () => {
    await probot.receive({ id: "delivery-1", name: "push", payload: push as never });
    await probot.receive({ id: "delivery-2", name: "push", payload: push as never });
    expect(await scanJobs()).toHaveLength(1);
    expect((await store.deliveries.byId("delivery-2"))?.jobId).toBe((await scanJobs())[0]?.id);
    expect(wakeUps).toBe(1);
  });

  it("records a deletion and scans nothing", async () => {
    await probot.receive({ id: "delivery-3", name: "push", payload: deletion as never });
    expect(await store.deliveries.byId("delivery-3")).toMatchObject({ event: "push", jobId: null });
    expect(await scanJobs()).toHaveLength(1);
  });

  it("ignores a push that was not sent to an installation", async () => {
    const { installation: _installation, ...withoutInstallation } = push;
    await probot.receive({ id: "delivery-4", name: "push", payload: withoutInstallation as never });
    expect(await store.deliveries.byId("delivery-4")).toBeUndefined();
  });
});

describe("the workflow_run handler", () => {
  it("queues a log scan for a completed run", async () => {
    await probot.receive({ id: "delivery-10", name: "workflow_run", payload: completedRun as never });
    const job = (await scanJobs()).find((j) => j.payload.type === "workflow_run");
    expect(job?.payload).toMatchObject({
      type: "workflow_run",
      installation: 7,
      runId: run.id,
      attempt: run.run_attempt,
      runUrl: run.html_url,
    });
    expect(job?.key).toBe(`run:${completedRun.repository.full_name}:${run.id}:${run.run_attempt}`);
  });

  it("ignores a run that is only requested", async () => {
    await probot.receive({ id: "delivery-11", name: "workflow_run", payload: requestedRun as never });
    expect(await store.deliveries.byId("delivery-11")).toBeUndefined();
  });
});

describe("a handler that fails", () => {
  it("never logs the event it was given: a commit message can hold a token", async () => {
    const lines: string[] = [];
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const logged = new Probot({
      appId: 1,
      privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      secret: "test-secret",
      Octokit: TestOctokit,
      log: pino({ level: "trace" }, { write: (line: string) => lines.push(line) }),
    });
    const broken = await openStore({ path: join(dir.path, "broken.db"), env: {} });
    registerHandlers(logged, broken, { scans: () => undefined, texts: () => undefined });
    await broken.close(); // every handler now fails on the database
    const secret = tokens(88).githubPat();
    const payload = { ...push, head_commit: { message: `deploy with ${secret}` } };
    await logged.ready();
    await expect(logged.webhooks.receive({ id: "d-fail", name: "push", payload } as never)).rejects.toThrow(
      /webhook handler failed/,
    );
    expect(lines.join("\n")).toMatch(/webhook handler failed/);
    expect(lines.join("\n")).not.toContain(secret);
    expect(lines.join("\n")).not.toContain(push.repository.full_name);
  });
});

describe("a repository's visibility", () => {
  it("is read from visibility, else private; a payload that says neither is unknown (and counts as public)", () => {
    expect(visibilityOf({ visibility: "internal", private: true })).toBe("internal");
    expect(visibilityOf({ private: true })).toBe("private");
    expect(visibilityOf({ private: false })).toBe("public");
    expect(visibilityOf({})).toBeUndefined();
    expect(isPublicRepository({})).toBe(true);
    expect(isPublicRepository({ visibility: "internal" })).toBe(false);
  });

  it("of the wrong type makes the payload malformed", () => {
    expect(payloadProblem("push", push)).toBeNull();
    expect(payloadProblem("push", { ...push, repository: { ...push.repository, private: "no" } })).toBe(
      "repository.private",
    );
  });
});
