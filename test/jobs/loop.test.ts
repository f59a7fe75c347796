// The wakeable loop's background mode: it steps aside while urgent work runs, and never for longer than its cap.
import { setTimeout as delay } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { WakeableLoop } from "../../src/jobs/loop.js";

function loopWith(yieldTo: (() => boolean) | undefined, maxYieldMs?: number) {
  const rounds: number[] = [];
  const started = Date.now();
  const loop = new WakeableLoop({
    round: async () => {
      rounds.push(Date.now() - started);
    },
    waitMs: () => 60_000,
    sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => {}),
    onError: (error) => {
      throw error;
    },
    ...(yieldTo ? { yieldTo } : {}),
    ...(maxYieldMs !== undefined ? { maxYieldMs } : {}),
  });
  return { loop, rounds };
}

describe("WakeableLoop stepping aside for urgent work", () => {
  it("runs its round at once when nothing urgent runs", async () => {
    const { loop, rounds } = loopWith(() => false, 300);
    loop.start();
    await delay(50);
    await loop.stop();
    expect(rounds).toHaveLength(1);
    expect(rounds[0]).toBeLessThan(50);
  });

  it("waits while urgent work runs, and goes as soon as it ends", async () => {
    let urgent = true;
    const { loop, rounds } = loopWith(() => urgent, 5_000);
    loop.start();
    await delay(150);
    expect(rounds).toEqual([]);
    urgent = false;
    await delay(100);
    await loop.stop();
    expect(rounds).toHaveLength(1);
    expect(rounds[0]).toBeGreaterThanOrEqual(150);
  });

  it("is late under endless urgent work, never starved: a round at least every maxYieldMs", async () => {
    const { loop, rounds } = loopWith(() => true, 200);
    loop.start();
    await delay(150);
    expect(rounds).toEqual([]);
    // Woken for new work while it steps aside: still waits out its turn.
    loop.notify();
    await delay(30);
    expect(rounds).toEqual([]);
    await delay(200);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]).toBeGreaterThanOrEqual(200);
    // Then steps aside again before the next one.
    loop.notify();
    await delay(50);
    expect(rounds).toHaveLength(1);
    await loop.stop();
  });

  it("stops promptly while stepping aside", async () => {
    const { loop, rounds } = loopWith(() => true, 60_000);
    loop.start();
    await delay(30);
    const stopping = Date.now();
    await loop.stop();
    expect(Date.now() - stopping).toBeLessThan(200);
    expect(rounds).toEqual([]);
  });
});
