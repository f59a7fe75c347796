// Which updates of a burst only move their ref forward: every path from the new tip back into history already
// there goes through the update's own before. For those, the commits "after minus before" (what scanRange reads
// for one update) are exactly the commits reached from the after without passing any before of the burst, so
// one `git log` can read them all and this graph says which update brought each commit in. An update whose new
// commits reach another before or an older commit (a merge from another branch, a rebase) is not forward: it is
// read on its own, as before.

export interface ForwardPlan {
  /** The updates (their indices) that only move their ref forward. */
  forward: number[];
  /** Each commit those updates bring in → the first of them that brings it in. */
  owners: Map<string, number>;
}

/**
 * `revList`: the output of `git rev-list --parents` for every update's after and `^before`: a line per commit
 * that no before reaches, `<commit> <parent>...`.
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

/** The commits `after` reaches in the graph, or undefined when it leaves them anywhere but at `before`. */
function broughtIn(
  parents: ReadonlyMap<string, string[]>,
  before: string,
  after: string,
): Set<string> | undefined {
  const brought = new Set<string>();
  const stack = [after];
  for (let commit = stack.pop(); commit !== undefined; commit = stack.pop()) {
    if (brought.has(commit)) continue;
    const up = parents.get(commit);
    if (up === undefined) {
      if (commit === before) continue;
      return undefined;
    }
    brought.add(commit);
    stack.push(...up);
  }
  return brought;
}
