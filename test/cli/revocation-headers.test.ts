// A provider that asks for an absurd pause (Retry-After: 99999999999999, a date in the year 9999) must not stop
// `scan --revoke` from reporting, nor leave its job `running`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";
import { spawnCli } from "../support/processes.js";
import { providerEnv, type StandIn, startStandIn } from "../support/stand-in.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir();
const db = join(dir.path, "leakwarden.db");
let standIn: StandIn;
let retryAfter = "";

beforeAll(async () => {
  standIn = await startStandIn(() => ({ status: 429, headers: { "retry-after": retryAfter } }));
});
afterAll(async () => {
  await standIn.close();
  dir.remove();
});

describe("scan --revoke against a provider that asks for an absurd pause", () => {
  it.each(["99999999999999", "99999", "Fri, 31 Dec 9999 23:59:59 GMT", "Fri, 01 Jan 99999 00:00:00 GMT"])(
    "Retry-After: %s still reports, and the job waits an hour at most",
    async (value) => {
      retryAfter = value;
      const file = join(dir.path, `ci-${standIn.requests.length}.log`);
      writeFileSync(
        file,
        `token ${tokens(standIn.requests.length + 600).make("github-installation-token")}\n`,
      );
      const started = Date.now();
      const scan = await spawnCli(
        ["scan", file, "--revoke", "--policy", "all", "--wait", "0", "--format", "json"],
        { env: { ...providerEnv(standIn.url), LEAKWARDEN_DB: db } },
      ).done;
      expect(scan.stderr).not.toMatch(/RangeError|Invalid time/);
      expect(scan.code).toBe(1);
      expect(JSON.parse(scan.stdout).findings[0].revocation).toMatchObject({ status: "pending" });
      const store = await openStore({ path: db, env: {} });
      try {
        const jobs = await store.jobs.list({});
        expect(jobs.every((job) => job.state !== "running")).toBe(true);
        for (const job of jobs.filter((j) => j.state === "pending"))
          expect(Date.parse(job.runAfter) - started).toBeLessThanOrEqual(60 * 60 * 1000 + 60_000);
      } finally {
        await store.close();
      }
    },
  );
});
