// A worker killed (SIGKILL) in the middle of its calls, then restarted, finishes every job exactly once.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { runCli, tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { spawnCli } from "../support/processes.js";
import { providerEnv, type Reply, type StandIn, startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const t = tokens(61);
const AUTH_ID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e";
const pat = t.adoPat();
const github = t.githubPat();
const dir = tempDir();
const db = join(dir.path, "leakwarden.db");
let standIn: StandIn;
let phase: "hang" | "answer" = "hang";
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];

beforeAll(async () => {
  writeFileSync(join(dir.path, "leak.txt"), `AZURE_DEVOPS_EXT_PAT=${pat}\nGH_TOKEN=${github}\n`);
  standIn = await startStandIn((request) => {
    // First life: the provider takes the calls and never answers before the worker dies.
    if (phase === "hang") return new Promise<Reply>(() => {});
    // Second life: the Token Admin call had gone through before the crash, so Azure DevOps says 404 now.
    if (request.url.startsWith("/ado/")) return { status: 404 };
    return { status: 202, body: "{}" };
  });
  env = { ...providerEnv(standIn.url), LEAKWARDEN_DB: db };
  const added = runCli(["registry", "add", "--org", "contoso", "--authorization-id", AUTH_ID], {
    input: pat,
    env,
  });
  expect(added.code).toBe(0);
});
afterAll(async () => {
  await standIn.close();
  dir.remove();
});

describe("a worker killed mid-job", () => {
  it("leaves its jobs running, the by-value token sealed, and nothing in plaintext", async () => {
    const scan = spawnCli(["scan", "leak.txt", "--revoke", "--policy", "all"], { env, cwd: dir.path });
    await standIn.arrived(2); // both calls are in flight
    scan.child.kill("SIGKILL");
    const killed = await scan.done;
    outputs.push(killed.stdout, killed.stderr);
    expect(killed.signal).toBe("SIGKILL");
    const store = await openStore({ path: db, env: {} });
    const jobs = await store.jobs.list();
    await store.close();
    expect(jobs.map((j) => [j.queue, j.state, j.attempts])).toEqual([
      ["azure-devops", "running", 1],
      ["github", "running", 1],
    ]);
    expect(jobs[1]?.sealed).toBeInstanceOf(Buffer);
    expectNotInFiles(databaseFiles(db), [pat, github]);
  });

  it("a restarted worker takes the jobs over at once and finishes each exactly once", async () => {
    phase = "answer";
    const resumed = await spawnCli(["revoke", "--pending", "--wait", "5"], { env, cwd: dir.path }).done;
    outputs.push(resumed.stdout, resumed.stderr);
    expect(resumed.stderr).toMatch(/job 1: its worker stopped mid-job; resuming it/);
    expect(resumed).toMatchObject({ code: 0, stdout: "2 tokens revoked, 0 failed, 0 still queued\n" });
    expect(standIn.requests.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      "POST /ado/contoso/_apis/tokenadmin/revocations?api-version=7.1",
      "POST /ado/contoso/_apis/tokenadmin/revocations?api-version=7.1",
      "POST /github/credentials/revoke",
      "POST /github/credentials/revoke",
    ]);
    // The same call both times: the sealed value survived the crash.
    const githubBodies = standIn.requests.filter((r) => r.url.includes("credentials")).map((r) => r.body);
    expect(githubBodies).toEqual([
      JSON.stringify({ credentials: [github] }),
      JSON.stringify({ credentials: [github] }),
    ]);

    const store = await openStore({ path: db, env: {} });
    try {
      expect((await store.jobs.list()).map((j) => [j.state, j.outcome, j.attempts, j.sealed])).toEqual([
        ["done", "already-revoked", 2, null],
        ["done", "revoked", 2, null],
      ]);
      const count = async (action: string) => (await store.audit.list({ action })).length;
      expect([
        await count("revoke.resume"),
        await count("revoke.attempt"),
        await count("revoke.revoked"),
        await count("revoke.already-revoked"),
      ]).toEqual([2, 4, 1, 1]);
      expect((await store.findings.list()).map((f) => f.status)).toEqual(["revoked", "revoked"]);
      expect((await store.tokens.list())[0]?.revokedAt).not.toBeNull();
    } finally {
      await store.close();
    }
  });

  it("running the queue again calls nothing", async () => {
    const again = await spawnCli(["revoke", "--pending"], { env, cwd: dir.path }).done;
    outputs.push(again.stdout, again.stderr);
    expect(again).toMatchObject({ code: 0, stdout: "0 tokens revoked, 0 failed, 0 still queued\n" });
    expect(standIn.requests).toHaveLength(4);
    expectNotInFiles(databaseFiles(db), [pat, github]);
    expectNotInText(outputs, [pat, github]);
  });
});
