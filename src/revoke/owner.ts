// Who holds a job: host, process id and a per-worker nonce. A job held by a process on this host that no
// longer exists was interrupted by a crash and can be taken over at once, without waiting for its lease.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

export function newOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True only when we can tell for sure: the owner ran on this host and its process is gone. */
export function ownerIsGone(owner: string | null): boolean {
  if (!owner) return true;
  const match = /^(.*):(\d+):[0-9a-f]+$/.exec(owner);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  return pid !== process.pid && !processExists(pid);
}
