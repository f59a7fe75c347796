// A database or key file that someone else made first is not ours to trust: in a shared folder another user
// could create it, with a key they know, and read what we write. Like ssh, refuse files that another user owns
// or that others can read or write, and say how to fix it.
import { lstatSync } from "node:fs";
import { UserError } from "../errors.js";

export class UnsafeFileError extends UserError {}

/** Throws UnsafeFileError unless `path` is a regular file owned by this user with no group or other access. */
export function assertPrivateFile(path: string, what: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no POSIX owner or mode to check.
  const stat = lstatSync(path);
  if (!stat.isFile())
    throw new UnsafeFileError(
      `${what} "${path}" is not a regular file; remove it or point leakwarden elsewhere`,
    );
  if (stat.uid !== uid)
    throw new UnsafeFileError(
      `${what} "${path}" is owned by another user (uid ${stat.uid}), so it cannot be trusted; if it is yours, fix it with: chown ${uid} "${path}" (else remove it)`,
    );
  if ((stat.mode & 0o077) !== 0)
    throw new UnsafeFileError(
      `${what} "${path}" can be read or written by other users (mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}); fix it with: chmod 600 "${path}"`,
    );
}
