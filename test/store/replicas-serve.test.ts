// Two real `leakwarden serve` processes on one PostgreSQL database, behind the demo's stand-ins (GitHub, git over
// HTTP, Azure DevOps). Signed push webhooks are spread over both, one replica is SIGKILLed mid-run and started
// again: every registered leaked token is revoked exactly once, one issue per push, no job left behind, and no
// token in plaintext in the database.
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { childServerPort } from "../../src/demo/ports.js";
import { CLI, type Scenario, startScenario } from "../../src/demo/scenario.js";
import { Registry } from "../../src/registry/registry.js";
import { SAMPLE_FORMATS, SeededRandom } from "../../src/scan/samples.js";
import { Secret } from "../../src/scan/secret.js";
import { openStore } from "../../src/store/index.js";
import { expectNotInText } from "../support/plaintext.js";
import {
  createSchema,
  dropSchema,
  freshSchema,
  postgresMissing,
  TEST_DATABASE_URL,
  urlForSchema,
} from "../support/postgres.js";
import { TEST_KEY } from "./engines.js";

const schema = freshSchema("serve");
const PUSHES = 8;

interface Replica {
  url: string;
  process: ChildProcess;
  output: () => string;
}

async function startReplica(scenario: Scenario, name: string): Promise<Replica> {
  const port = childServerPort();
  const env = { ...scenario.env, PORT: String(port), LEAKWARDEN_CACHE: join(scenario.dir, `repos-${name}`) };
  const child = spawn(process.execPath, [CLI, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  child.stdout?.on("data", (c: Buffer) => {
    printed += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    printed += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`replica ${name} exited:\n${printed}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`replica ${name} did not start:\n${printed}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, process: child, output: () => printed };
}

async function deliver(scenario: Scenario, url: string, payload: unknown, delivery = randomUUID()) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", scenario.env.WEBHOOK_SECRET as string)
    .update(body)
    .digest("hex")}`;
  const response = await fetch(`${url}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": delivery,
      "x-hub-signature-256": signature,
    },
    body,
  });
  return response.status;
}

afterAll(async () => {
  await dropSchema(schema);
});

describe.skipIf(postgresMissing)(
  `two serve replicas on one PostgreSQL database${postgresMissing ? ` (skipped: ${postgresMissing})` : ""}`,
  () => {
    it("webhooks over both, one SIGKILLed and restarted: each token revoked once, one issue per push, nothing stuck", async () => {
      await createSchema(schema);
      const scenario = await startScenario({
        env: { LEAKWARDEN_DATABASE_URL: urlForSchema(schema), LEAKWARDEN_KEY: TEST_KEY, LOG_LEVEL: "warn" },
      });
      const replicas: Replica[] = [];
      try {
        let b = await startReplica(scenario, "b");
        replicas.push(b);
        const rng = new SeededRandom(4711);
        const mint = SAMPLE_FORMATS["azure-devops-pat"] as (r: SeededRandom) => string;
        const leaks = Array.from({ length: PUSHES }, (_, i) => ({
          branch: `leak-${i}`,
          pat: mint(rng),
          authorizationId: randomUUID(),
          update: { before: "", after: "" },
        }));
        const store = await openStore({ url: TEST_DATABASE_URL, schema, env: { LEAKWARDEN_KEY: TEST_KEY } });
        for (const l of leaks)
          await new Registry(store).add(new Secret(l.pat), {
            org: "contoso",
            authorizationId: l.authorizationId,
          });
        for (const l of leaks)
          l.update = await scenario.push(
            l.branch,
            { "deploy.sh": `export AZURE_DEVOPS_EXT_PAT=${l.pat}\n` },
            l.branch,
          );

        // The first half alternately to A and B; one redelivered to the other replica.
        const half = PUSHES / 2;
        for (const [i, l] of leaks.slice(0, half).entries()) {
          const delivery = randomUUID();
          const url = i % 2 ? b.url : scenario.appUrl;
          expect(await deliver(scenario, url, scenario.pushPayload(l.branch, l.update), delivery)).toBe(200);
          if (i === 0)
            expect(await deliver(scenario, b.url, scenario.pushPayload(l.branch, l.update), delivery)).toBe(
              200,
            );
        }
        // B dies mid-run, whatever it holds, and comes back.
        b.process.kill("SIGKILL");
        await new Promise((r) => b.process.once("close", r));
        for (const l of leaks.slice(half))
          expect(await deliver(scenario, scenario.appUrl, scenario.pushPayload(l.branch, l.update))).toBe(
            200,
          );
        b = await startReplica(scenario, "b2");
        replicas.push(b);

        await scenario.until(
          "every revocation",
          () => scenario.ado.revoked.length >= PUSHES || undefined,
          90_000,
        );
        await scenario.until(
          "every issue",
          () => scenario.github.issues.length >= PUSHES || undefined,
          90_000,
        );
        const deadline = Date.now() + 60_000;
        for (;;) {
          const left = await store.db
            .selectFrom("jobs")
            .select((eb) => eb.fn.countAll().as("n"))
            .where("state", "in", ["pending", "running"])
            .where("kind", "in", ["scan", "revoke", "report"])
            .executeTakeFirstOrThrow();
          if (Number(left.n) === 0) break;
          if (Date.now() > deadline) throw new Error(`${left.n} jobs still pending or running`);
          await new Promise((r) => setTimeout(r, 200));
        }
        // Anything more (a second revocation, a second issue) would show within a moment.
        await new Promise((r) => setTimeout(r, 1_500));
        expect([...scenario.ado.revoked].sort()).toEqual(leaks.map((l) => l.authorizationId).sort());
        expect(scenario.github.issues).toHaveLength(PUSHES);
        const dead = await store.jobs.list({ state: "dead" });
        expect(dead.map((j) => `${j.kind} ${j.key}: ${j.lastError}`)).toEqual([]);

        const dump: string[] = [];
        for (const table of [
          "tokens",
          "findings",
          "jobs",
          "audit",
          "deliveries",
          "breaches",
          "breach_tokens",
        ])
          dump.push(JSON.stringify((await sql.raw(`SELECT * FROM ${table}`).execute(store.db)).rows));
        expectNotInText(
          [...dump, scenario.output(), ...replicas.map((r) => r.output())],
          leaks.map((l) => l.pat),
        );
        await store.close();
      } finally {
        for (const r of replicas) if (r.process.exitCode === null) r.process.kill("SIGTERM");
        await scenario.stop();
      }
    }, 240_000);
  },
);
