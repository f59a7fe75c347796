import { describe, expect, it } from "vitest";
import { BackgroundChecks } from "../../src/app/background-checks.js";

/** A check that runs until `finish()` is called, and says when it started. */
function gatedCheck(log: string[], name: string) {
  let finish: () => void = () => {};
  let started = false;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const run = async () => {
    started = true;
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
  };
  return { run, finish: () => finish(), started: () => started };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("background live checks", () => {
  it("run two breaches' checks at a time, so a burst cannot take every database connection at once", async () => {
    const checks = new BackgroundChecks();
    const log: string[] = [];
    const gates = Array.from({ length: 6 }, (_, i) => gatedCheck(log, `b${i}`));
    for (const [i, gate] of gates.entries()) checks.start(`breach-${i}`, gate.run, () => {});
    await tick();
    expect(gates.map((g) => g.started())).toEqual([true, true, false, false, false, false]);
    gates[0]?.finish();
    await tick();
    expect(gates.map((g) => g.started())).toEqual([true, true, true, false, false, false]);
    for (const gate of gates) gate.finish();
    await checks.idle();
    expect(log.filter((line) => line.startsWith("end"))).toHaveLength(6);
  });

  it("run one breach's checks in order, and a failed one neither stops the next nor escapes", async () => {
    const checks = new BackgroundChecks();
    const log: string[] = [];
    const errors: string[] = [];
    const first = gatedCheck(log, "first");
    checks.start("breach", first.run, (error) => errors.push(error.message));
    checks.start(
      "breach",
      async () => {
        log.push("second");
        throw new Error("the issuer is away");
      },
      (error) => errors.push(error.message),
    );
    checks.start(
      "breach",
      async () => {
        log.push("third");
      },
      () => {},
    );
    await tick();
    expect(log).toEqual(["start first"]);
    first.finish();
    await checks.idle();
    expect(log).toEqual(["start first", "end first", "second", "third"]);
    expect(errors).toEqual(["the issuer is away"]);
  });

  it("let a report wait for its breach's checks while they queue behind others, or give up after its wait", async () => {
    const checks = new BackgroundChecks();
    const log: string[] = [];
    const busy = [gatedCheck(log, "a"), gatedCheck(log, "b")];
    for (const [i, gate] of busy.entries()) checks.start(`busy-${i}`, gate.run, () => {});
    const mine = gatedCheck(log, "mine");
    checks.start("mine", mine.run, () => {});

    const started = performance.now();
    await checks.settled("mine", 50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(mine.started()).toBe(false); // still queued: the report went on without its verdict

    let settled = false;
    const waiting = checks.settled("mine", 10_000).then(() => {
      settled = true;
    });
    busy[0]?.finish();
    await tick();
    expect(mine.started()).toBe(true);
    expect(settled).toBe(false);
    mine.finish();
    await waiting;
    expect(settled).toBe(true);
    busy[1]?.finish();
    await checks.idle();
  });
});
