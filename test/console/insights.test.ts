// The overview's figures, computed by the store on a real SQLite file with a clock the test moves.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { duration, quantile } from "../../src/console/pages/overview.js";
import { openStore } from "../../src/store/index.js";
import { scanText } from "../revoke/harness.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir("leakwarden-insights-");
afterAll(dir.remove);

describe("the overview's figures", () => {
  it("count open findings, those that need a human, and the time from detection to revocation", async () => {
    const clock = { now: new Date("2026-11-02T09:00:00.000Z") };
    const store = await openStore({ path: join(dir.path, "i.db"), env: {}, clock: () => clock.now });
    const gen = tokens(7);
    const [a, b, c] = scanText([gen.githubPat(), gen.githubPat(), gen.adoPat()].join("\n"));
    for (const f of [a, b, c]) await store.findings.record(f as NonNullable<typeof a>, "acme/api");
    clock.now = new Date("2026-11-10T09:00:00.000Z");
    for (const f of [a, b]) {
      const key = `revoke:${f?.secretHash}`;
      await store.jobs.enqueue({ kind: "revoke", key, queue: "github", payload: {}, maxAttempts: 1 });
    }
    const [job] = await store.jobs.claim({ kind: "revoke", owner: "w", leaseMs: 1000, limit: 1 });
    clock.now = new Date("2026-11-10T11:00:00.000Z");
    await store.jobs.startAttempt([job?.id as number], "w");
    await store.jobs.finish(job?.id as number, "w", { state: "done", outcome: "revoked" });

    expect(await store.insights.openBy("source")).toEqual([{ key: "acme/api", count: 3 }]);
    expect(await store.insights.revocations()).toMatchObject({ done: 1, pending: 1 });
    // c has no job at all.
    expect(await store.insights.needsHuman()).toBe(1);
    // Seen on 2 November 09:00, revoked on 10 November 11:00.
    expect(await store.insights.secondsToRevocation()).toEqual([8 * 86_400 + 2 * 3600]);
    expect(await store.insights.newPerWeek(clock.now, 4)).toEqual([{ key: "2026-11-02", count: 3 }]);
    expect(await store.insights.queueHealth("revoke")).toEqual({
      pending: 1,
      running: 0,
      dead: 0,
      oldestPending: "2026-11-10T09:00:00.000Z",
    });
    await store.close();
  });

  it("take quantiles by nearest rank and say durations in words", () => {
    expect(quantile([], 0.5)).toBeUndefined();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4, 100], 0.95)).toBe(100);
    expect(duration(90)).toBe("2 min");
    expect(duration(8 * 86_400 + 7200)).toBe("8.1 d");
  });
});
