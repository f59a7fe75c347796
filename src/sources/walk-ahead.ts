// A git walk started ahead of the code that reads it. `git log --topo-order --reverse --all` orders every
// commit before it writes a line (about 0.1 s on expressjs/express), and the CLI spends about as long loading
// the scanner's modules: started first, the two overlap. The walk is taken only by a reader that asks for the
// very same one (repository, environment, arguments); one never taken is killed when the process exits.
import type { ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import type { GitRepository } from "./git.js";

type Walk = ChildProcessByStdio<Writable, Readable, Readable>;

let ahead: { key: string; walk: Walk; kill: () => void } | undefined;

function keyOf(repo: GitRepository, args: readonly string[]): string {
  return JSON.stringify([repo.dir, repo.env, args]);
}

/** Starts `git <args>` (stdin left open, as GitRepository.start leaves it) for takeWalkAhead to find. */
export function startWalkAhead(repo: GitRepository, args: readonly string[]): Walk {
  discardWalkAhead();
  const walk = repo.start([...args], undefined, false);
  // Its output waits in the pipe until it is taken; meanwhile neither it nor its pipes keep the process alive.
  setHeld(walk, false);
  const kill = () => walk.kill();
  process.once("exit", kill);
  ahead = { key: keyOf(repo, args), walk, kill };
  // A walk that ended (or never started) before it was taken has had its output read by Node and thrown away:
  // the reader starts its own, which fails, if it does, with git's own words.
  const gone = () => {
    if (ahead?.walk === walk) discardWalkAhead();
  };
  walk.once("exit", gone);
  walk.once("error", gone);
  return walk;
}

/** The walk started ahead with these arguments, or undefined (none, or another one, which is killed). */
export function takeWalkAhead(repo: GitRepository, args: readonly string[]): Walk | undefined {
  const found = ahead;
  if (!found) return undefined;
  ahead = undefined;
  process.removeListener("exit", found.kill);
  if (found.key !== keyOf(repo, args)) {
    found.kill();
    return undefined;
  }
  setHeld(found.walk, true);
  return found.walk;
}

/** Whether the walk and its pipes keep the process alive (as any child does), or not. */
function setHeld(walk: Walk, held: boolean): void {
  for (const handle of [walk, walk.stdin, walk.stdout, walk.stderr] as { ref(): void; unref(): void }[])
    if (held) handle.ref();
    else handle.unref();
}

/** Kills a walk started ahead that nobody took. */
export function discardWalkAhead(): void {
  if (!ahead) return;
  process.removeListener("exit", ahead.kill);
  ahead.kill();
  ahead = undefined;
}
