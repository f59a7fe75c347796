// Ports for the servers the demo, the tests and the benchmarks start as child processes (which cannot be told
// to listen on port 0 and report back): below the kernel's ephemeral range (Linux: 32768 and up), where the
// ports of outgoing connections and of servers listening on port 0 come from, so that none of those takes it.
import { randomInt } from "node:crypto";

export function childServerPort(): number {
  return 10_000 + randomInt(22_000);
}

/** Whether a server's start failed only because its port was taken (then try another). */
export function portWasTaken(output: string): boolean {
  return /EADDRINUSE/.test(output);
}
