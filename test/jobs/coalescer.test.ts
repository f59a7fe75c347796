import { describe, expect, it } from "vitest";
import { Coalescer } from "../../src/jobs/coalescer.js";

/** A write that waits until the test lets it finish, and remembers what it was given. */
function gatedWrites(fail = false) {
  const writes: number[][] = [];
  const gates: (() => void)[] = [];
  const coalescer = new Coalescer<number, number>(async (items) => {
    writes.push(items);
    await new Promise<void>((open) => gates.push(open));
    if (fail) throw new Error("the database is away");
    return items.map((n) => n * 10);
  });
  const open = async () => {
    for (let i = 0; i < 20 && gates.length === 0; i++) await Promise.resolve();
    gates.shift()?.();
  };
  return { coalescer, writes, open };
}

describe("a coalescer", () => {
  it("writes at once, and puts what arrives meanwhile in one next write; each caller gets its own results", async () => {
    const { coalescer, writes, open } = gatedWrites();
    const first = coalescer.submit([1]);
    const second = coalescer.submit([2, 3]);
    const third = coalescer.submit([4]);
    expect(writes).toEqual([[1]]);
    await open();
    expect(await first).toEqual([10]);
    await open();
    expect(await second).toEqual([20, 30]);
    expect(await third).toEqual([40]);
    expect(writes).toEqual([[1], [2, 3, 4]]);
    expect(await coalescer.submit([])).toEqual([]);
  });

  it("a failed write fails each of its callers, and the next write goes on", async () => {
    const { coalescer, open } = gatedWrites(true);
    const first = coalescer.submit([1]);
    const second = coalescer.submit([2]);
    await open();
    await expect(first).rejects.toThrow("the database is away");
    await open();
    await expect(second).rejects.toThrow("the database is away");
  });
});
