// Appends one array to another without spreading it into arguments: `push(...items)` overflows the stack
// at around 125,000 items, and a file or log chunk can hold that many findings.
export function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}
