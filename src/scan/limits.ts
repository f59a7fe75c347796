// The scan's limits and defaults that the command line and the App read for their flags and settings, apart
// from the file scanner itself: a history scan does not load the folder walk, archives and thread pool.
import { availableParallelism } from "node:os";

export const DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024;

/** Archives inside archives are opened down to this depth by default. */
export const DEFAULT_MAX_ARCHIVE_DEPTH = 2;

export function defaultThreads(): number {
  return availableParallelism();
}

/** More threads than this only costs memory (each holds its own engine): 4 per core, and 64 at most. */
export function maxThreads(): number {
  return Math.min(64, 4 * availableParallelism());
}
