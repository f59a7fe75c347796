// Where a CLI scan ran, for a finding's identity: the same token at the same path in two repositories is two
// findings. A git work tree is named by its remote's URL (without any credentials in it), anything else by
// its absolute path; stdin by nothing.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** A remote URL without user or password: `https://x-access-token:TOKEN@github.com/…` must never be stored. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    // scp-like (git@github.com:acme/app.git): the user is a fixed name, not a secret.
    return url;
  }
}

function remoteOf(path: string, cwd: string): string | undefined {
  const full = resolve(cwd, path);
  if (!existsSync(full)) return undefined;
  const dir = statSync(full).isDirectory() ? full : dirname(full);
  try {
    const url = execFileSync("git", ["-C", dir, "config", "--get", "remote.origin.url"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5_000,
    }).trim();
    return url ? withoutCredentials(url) : undefined;
  } catch {
    return undefined;
  }
}

/** The source recorded with a scan's findings. */
export function scanSource(targets: readonly string[], cwd = process.cwd()): string {
  const named = targets.filter((t) => t !== "-");
  if (named.length === 0) return "";
  return named
    .map((t) => remoteOf(t, cwd) ?? resolve(cwd, t))
    .filter((s, i, all) => all.indexOf(s) === i)
    .join(" ");
}
