// GitHub's write pace in the store: one pace per installation queue for every replica on one database, and a
// pause that one replica is given holds for all. Two stores on one database are two replicas' views (on
// PostgreSQL, two pools).
import { afterAll, describe, expect, it, vi } from "vitest";
import { PAUSES_FRESH_MS, WritePacer } from "../../src/app/pacing.js";
import type { Store } from "../../src/store/index.js";
import { engines, engineTitle } from "./engines.js";

const T0 = Date.parse("2026-12-01T10:00:00Z");

describe.each(engines("write_pace"))("write pace on $name", (engine) => {
  afterAll(engine.cleanup);

  /** Two stores on one new database, both on `clock`. */
  async function twoReplicas(clock: () => Date): Promise<[Store, Store]> {
    const target = engine.target();
    const a = await engine.open(target, { clock });
    const b = await engine.open(target, { clock });
    return [a, b];
  }

  describe.skipIf(engine.missing)(engineTitle(engine), () => {
    it("reserves slots an interval apart per queue, after a pause, and from the current time once idle", async () => {
      let now = T0;
      const store = await engine.open(engine.target(), { clock: () => new Date(now) });
      const pace = store.writePace;
      expect(await pace.reserve("installation:1", 1_000)).toBe(T0);
      expect(await pace.reserve("installation:1", 1_000)).toBe(T0 + 1_000);
      expect(await pace.reserve("installation:1", 1_000)).toBe(T0 + 2_000);
      // Another queue keeps its own pace.
      expect(await pace.reserve("installation:2", 1_000)).toBe(T0);
      // Idle for a while: the next slot is now.
      now = T0 + 10_000;
      expect(await pace.reserve("installation:1", 1_000)).toBe(T0 + 10_000);
      // A pause moves the next slot to its end, and only grows.
      await pace.pause("installation:1", T0 + 60_000);
      await pace.pause("installation:1", T0 + 30_000);
      expect(await pace.paused()).toEqual(new Map([["installation:1", T0 + 60_000]]));
      expect(await pace.reserve("installation:1", 1_000)).toBe(T0 + 60_000);
      expect(await pace.reserve("installation:1", 1_000)).toBe(T0 + 61_000);
      // A queue paused before its first write.
      await pace.pause("installation:3", T0 + 20_000);
      expect(await pace.reserve("installation:3", 1_000)).toBe(T0 + 20_000);
      // A pause that has ended is not listed.
      now = T0 + 20_000;
      expect([...(await pace.paused()).keys()]).toEqual(["installation:1"]);
      now = T0 + 60_000;
      expect(await pace.paused()).toEqual(new Map());
      await store.close();
    });

    it("two replicas reserving at once for one queue get distinct slots, an interval apart; other queues are independent", async () => {
      const [a, b] = await twoReplicas(() => new Date(T0));
      const interval = 1_000;
      const calls: Promise<number>[] = [];
      for (let i = 0; i < 20; i++)
        for (const store of [a, b]) {
          calls.push(store.writePace.reserve("installation:1", interval));
          if (i < 5) calls.push(store.writePace.reserve(`installation:${10 + i}`, interval));
        }
      const slots = await Promise.all(calls);
      // Sorted out by queue, in the order the calls were made.
      const installation1: number[] = [];
      const others = new Map<string, number[]>();
      let k = 0;
      for (let i = 0; i < 20; i++)
        for (const _ of [a, b]) {
          installation1.push(slots[k++] as number);
          if (i < 5) {
            const queue = `installation:${10 + i}`;
            others.set(queue, [...(others.get(queue) ?? []), slots[k++] as number]);
          }
        }
      // Forty slots of installation 1: exactly T0, T0 + 1 s, … T0 + 39 s, whichever replica took which.
      expect(installation1.sort((x, y) => x - y)).toEqual(
        Array.from({ length: 40 }, (_, i) => T0 + i * interval),
      );
      for (const taken of others.values()) expect(taken.sort((x, y) => x - y)).toEqual([T0, T0 + interval]);
      expect(await a.writePace.reserve("installation:1", interval)).toBe(T0 + 40 * interval);
      await a.close();
      await b.close();
    });

    it("two replicas' pacers write one at a time, an interval apart, between them", async () => {
      const [a, b] = await twoReplicas(() => new Date());
      const interval = 150;
      const pacers = [a, b].map((store) => new WritePacer(interval, { store }));
      const wrote: number[] = [];
      await Promise.all(
        pacers.flatMap((pacer) =>
          [1, 2, 3].map(async () => {
            await pacer.turn("installation:1");
            wrote.push(Date.now());
          }),
        ),
      );
      wrote.sort((x, y) => x - y);
      // Six writes: five gaps of an interval, give or take a round trip (each replica keeping its own pace
      // would write two at a time, over two intervals).
      for (let i = 1; i < wrote.length; i++)
        expect((wrote[i] as number) - (wrote[i - 1] as number)).toBeGreaterThanOrEqual(interval - 50);
      expect((wrote.at(-1) as number) - (wrote[0] as number)).toBeGreaterThanOrEqual(5 * interval - 50);
      await a.close();
      await b.close();
    });

    it("a pause that one replica is given holds on the other: its turn waits, and its report stage sees it", async () => {
      const [a, b] = await twoReplicas(() => new Date());
      const [here, there] = [a, b].map((store) => new WritePacer(0, { store })) as [WritePacer, WritePacer];
      const until = Date.now() + 1_000;
      await here.pause("installation:1", until);
      expect(here.pausedQueues().get("installation:1")).toBe(until);
      // Its report stage asks on every round; the first asking reads the store, in the background.
      const deadline = until - 200;
      while (!there.pausedQueues().has("installation:1") && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5));
      expect(there.pausedQueues().get("installation:1")).toBe(until);
      expect(there.pausedQueues().has("installation:2")).toBe(false);
      await there.turn("installation:1");
      expect(Date.now()).toBeGreaterThanOrEqual(until);
      // Another installation was never paused.
      const started = Date.now();
      await there.turn("installation:2");
      expect(Date.now() - started).toBeLessThan(200);
      await a.close();
      await b.close();
    });

    it("pausedQueues, asked on every round of a stage, reads the store at most once every PAUSES_FRESH_MS", async () => {
      let now = T0;
      const clock = () => new Date(now);
      const [a, b] = await twoReplicas(clock);
      const here = new WritePacer(1_000, { store: a });
      const there = new WritePacer(1_000, { store: b });
      const reads = vi.spyOn(b.writePace, "paused");
      await here.pause("installation:1", T0 + 60_000);
      for (let i = 0; i < 1_000; i++) there.pausedQueues();
      expect(reads).toHaveBeenCalledTimes(1);
      // The read ends in the background; the pause is then seen without another.
      await vi.waitFor(() => expect(there.pausedQueues().get("installation:1")).toBe(T0 + 60_000));
      expect(reads).toHaveBeenCalledTimes(1);
      now += PAUSES_FRESH_MS;
      there.pausedQueues();
      expect(reads).toHaveBeenCalledTimes(2);
      // A pause ends by itself, without a read.
      now = T0 + 60_000;
      await vi.waitFor(() => expect(there.pausedQueues().size).toBe(0));
      await a.close();
      await b.close();
    });
  });
});
