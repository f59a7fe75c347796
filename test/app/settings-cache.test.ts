import { describe, expect, it } from "vitest";
import { SettingsCache } from "../../src/app/settings-cache.js";

describe("the repository settings cache", () => {
  it("reads once while fresh, shares a read in flight, and reads again after its time or when told", async () => {
    let now = 0;
    const cache = new SettingsCache<string>(30_000, () => now);
    let reads = 0;
    const read = async () => `settings ${++reads}`;
    const keep = () => true;
    // Two scans asking at once share one read.
    expect(
      await Promise.all([cache.get("1:acme/app", read, keep), cache.get("1:acme/app", read, keep)]),
    ).toEqual(["settings 1", "settings 1"]);
    now = 29_000;
    expect(await cache.get("1:acme/app", read, keep)).toBe("settings 1");
    // Another repository has its own.
    expect(await cache.get("1:acme/other", read, keep)).toBe("settings 2");
    now = 30_000;
    expect(await cache.get("1:acme/app", read, keep)).toBe("settings 3");
    // A push to the default branch may have changed the file.
    cache.forget("1:acme/app");
    expect(await cache.get("1:acme/app", read, keep)).toBe("settings 4");
  });

  it("keeps no read that failed", async () => {
    const cache = new SettingsCache<{ problem?: string }>(30_000, () => 0);
    let reads = 0;
    const read = async () => (++reads === 1 ? { problem: "it could not be read: 502" } : {});
    const keep = (v: { problem?: string }) => v.problem === undefined;
    expect(await cache.get("k", read, keep)).toEqual({ problem: "it could not be read: 502" });
    expect(await cache.get("k", read, keep)).toEqual({});
    expect(await cache.get("k", read, keep)).toEqual({});
    expect(reads).toBe(2);
    // A read that throws is not kept either.
    const failing = new SettingsCache<string>(30_000, () => 0);
    await expect(
      failing.get(
        "k",
        async () => Promise.reject(new Error("down")),
        () => true,
      ),
    ).rejects.toThrow("down");
    expect(
      await failing.get(
        "k",
        async () => "up",
        () => true,
      ),
    ).toBe("up");
  });

  it("with no time to live, reads every time", async () => {
    const cache = new SettingsCache<number>(0, () => 0);
    let reads = 0;
    await cache.get(
      "k",
      async () => ++reads,
      () => true,
    );
    await cache.get(
      "k",
      async () => ++reads,
      () => true,
    );
    expect(reads).toBe(2);
  });
});
