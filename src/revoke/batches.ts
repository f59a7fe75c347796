// Which targets share a provider call: at most the revoker's batch size, and only those it can take together.
import type { RevocationTarget, Revoker } from "./types.js";

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `items` in calls of at most the revoker's batch size, each call only targets it can take together, in order. */
export function batchesOf<T>(
  revoker: Revoker,
  items: readonly T[],
  targetOf: (item: T) => RevocationTarget,
): T[][] {
  if (!revoker.batchKey) return chunks(items, revoker.batchSize);
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = revoker.batchKey(targetOf(item));
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()].flatMap((group) => chunks(group, revoker.batchSize));
}
