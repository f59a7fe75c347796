// Which updates of a burst only move their ref forward: every path from the new tip back into history already
// there goes through the update's own before. For those, the commits "after minus before" (what scanRange reads
// for one update) are exactly the commits reached from the after without passing its before or leaving the
// commits the burst brings in, so one `git log` can read them all and this graph says which update brought each
// commit in. An update whose new commits reach another before or an older commit (a merge from another branch, a
// rebase) is not forward: it is read on its own, as before. Two pushes to one branch in a burst (the second's
// before is the first's after) are both forward.

/** The befores that bound what a set of updates brings in: all but those that another update brings in. */
export function boundaryOf(updates: readonly { before: string; after: string }[]): string[] {
  const afters = new Set(updates.map((u) => u.after));
  return [...new Set(updates.map((u) => u.before))].filter((before) => !afters.has(before));
}

export interface ForwardPlan {
  /** The updates (their indices) that only move their ref forward. */
  forward: number[];
  /** Each commit those updates bring in → the first of them that brings it in. */
  owners: Map<string, number>;
}

/**
 * `revList`: the output of `git rev-list --parents` for every update's after and `^before` of boundaryOf: a
 * line per commit that no such before reaches, `<commit> <parent>...`.
 */
export function planForward(
  revList: string,
  updates: readonly { before: string; after: string }[],
): ForwardPlan {
  const parents = new Map<string, string[]>();
  for (const line of revList.split("\n")) {
    if (line === "") continue;
    const [commit = "", ...up] = line.split(" ");
    parents.set(commit, up);
  }
  const forward: number[] = [];
  const owners = new Map<string, number>();
  for (const [k, { before, after }] of updates.entries()) {
    const brought = broughtIn(parents, before, after);
    if (!brought) continue;
    forward.push(k);
    for (const commit of brought) if (!owners.has(commit)) owners.set(commit, k);
  }
  return { forward, owners };
}

/**
 * The commits `after` reaches in the graph down to `before`, or undefined when it leaves the graph anywhere else,
 * or when `before` is in the graph (a push on top of another of the burst) and reaches one of them too.
 */
function broughtIn(
  parents: ReadonlyMap<string, string[]>,
  before: string,
  after: string,
): Set<string> | undefined {
  const brought = new Set<string>();
  const stack = [after];
  for (let commit = stack.pop(); commit !== undefined; commit = stack.pop()) {
    if (commit === before || brought.has(commit)) continue;
    const up = parents.get(commit);
    if (up === undefined) return undefined;
    brought.add(commit);
    stack.push(...up);
  }
  if (parents.has(before))
    for (const commit of reach(parents, before)) if (brought.has(commit)) return undefined;
  return brought;
}

/** The commits of the graph that `from` reaches, itself included. */
function reach(parents: ReadonlyMap<string, string[]>, from: string): Set<string> {
  const reached = new Set<string>();
  const stack = [from];
  for (let commit = stack.pop(); commit !== undefined; commit = stack.pop()) {
    const up = parents.get(commit);
    if (up === undefined || reached.has(commit)) continue;
    reached.add(commit);
    stack.push(...up);
  }
  return reached;
}
