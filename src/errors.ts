// Errors whose message is already a full sentence for the user, naming what is wrong and what to do. The CLI
// prints their message alone and exits 2; anything else is a bug, and its stack is printed with LEAKWARDEN_DEBUG.
export class UserError extends Error {}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: "no such file or folder",
  ENOTDIR: "a folder on its path is a file",
  EISDIR: "it is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOSPC: "the disk is full",
  EROFS: "the file system is read-only",
  EMFILE: "too many open files",
};

/** A file system error in words (never a bare ENOENT or EISDIR). */
export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return (
    (code && FILE_PROBLEMS[code]) ??
    (code ? `the system said ${code}` : ((error as Error)?.message ?? String(error)))
  );
}
