import { describe, expect, it } from "vitest";
import { boundaryOf, planForward } from "../../src/scan/forward-updates.js";

// Commit names stand in for object ids: the plan only compares them.
const revList = (lines: string[]) => `${lines.join("\n")}\n`;

describe("which updates of a burst only move their ref forward", () => {
  it("owns each new commit to the first update that brings it in, down to its own before", () => {
    // b1 ← x1 ← x2 (update 0); x2 ← y1 (update 1, built on update 0's tip).
    const graph = revList(["y1 x2", "x2 x1", "x1 b1"]);
    const plan = planForward(graph, [
      { before: "b1", after: "x2" },
      { before: "b1", after: "y1" },
    ]);
    expect(plan.forward).toEqual([0, 1]);
    expect(Object.fromEntries(plan.owners)).toEqual({ x2: 0, x1: 0, y1: 1 });
  });

  it("leaves out an update whose commits reach another before or an older commit", () => {
    // m merges o (another update's before) into a branch at b1.
    const graph = revList(["m n o", "n b1"]);
    const plan = planForward(graph, [
      { before: "b1", after: "m" },
      { before: "o", after: "o" },
    ]);
    expect(plan.forward).toEqual([1]);
    expect(plan.owners.size).toBe(0);
  });

  it("leaves out an update moved back into its history, and takes one with a history of its own", () => {
    const graph = revList(["z2 z1", "z1"]);
    const plan = planForward(graph, [
      { before: "b1", after: "a0" },
      { before: "b1", after: "z2" },
    ]);
    expect(plan.forward).toEqual([1]);
    expect(Object.fromEntries(plan.owners)).toEqual({ z2: 1, z1: 1 });
  });

  it("takes two pushes to one branch, the second on top of the first", () => {
    const updates = [
      { before: "b0", after: "a1" },
      { before: "a1", after: "a2" },
    ];
    // The first's after bounds nothing: it is what the burst brings in.
    expect(boundaryOf(updates)).toEqual(["b0"]);
    const plan = planForward(revList(["a2 a1", "a1 b0"]), updates);
    expect(plan.forward).toEqual([0, 1]);
    expect(Object.fromEntries(plan.owners)).toEqual({ a1: 0, a2: 1 });
  });

  it("leaves out a push on top of another that also reaches the other's commits past its before", () => {
    // a2 merges y, which a1 (its before) holds already: after minus before is a2 alone, not y.
    const plan = planForward(revList(["a2 a1 y", "a1 y", "y"]), [
      { before: "b0", after: "a1" },
      { before: "a1", after: "a2" },
    ]);
    expect(plan.forward).toEqual([0]);
  });
});
