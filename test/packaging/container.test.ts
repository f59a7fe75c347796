// The container image, as far as it can be tested without a Docker engine: its entry point and default command
// run this checkout's leakwarden the way `docker run IMAGE scan /src` and `docker run IMAGE` would, and the
// ignore files keep secrets and leakwarden's data out of the image and of git.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ignore from "ignore";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../support/cli.js";
import { testGitEnv } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const tmp = tempDir();
afterAll(tmp.remove);

/** The exec-form JSON array of the last ENTRYPOINT or CMD instruction. */
function instruction(name: "ENTRYPOINT" | "CMD"): string[] {
  const lines = dockerfile.split("\n").filter((line) => line.startsWith(`${name} `));
  return JSON.parse((lines.at(-1) as string).slice(name.length + 1));
}

/** Runs what the image would, with /app (the image's copy of the package) mapped to this checkout. */
function runImage(args: string[], cwd: string) {
  const [command, ...rest] = [...instruction("ENTRYPOINT"), ...(args.length > 0 ? args : instruction("CMD"))];
  const mapped = rest.map((arg) => arg.replace(/^\/app\//, `${ROOT}/`));
  const child = spawnSync(command === "node" ? process.execPath : (command as string), mapped, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH, NO_COLOR: "1" },
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("the container image", () => {
  it("has leakwarden as its entry point: `IMAGE scan /src` scans the mounted folder", () => {
    expect(instruction("ENTRYPOINT")).toEqual(["node", "/app/bin/leakwarden.js"]);
    const src = join(tmp.path, "src");
    mkdirSync(src);
    const token = tokens(6060).githubPat();
    writeFileSync(join(src, "ci.env"), `GITHUB_TOKEN=${token}\n`);
    const result = runImage(["scan", src], src); // the image's working folder is /src
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ci\.env\n {2}critical \(high confidence\) {2}1:14 {2}github-pat/);
    expect(result.stdout).not.toContain(token);
  });

  it("runs the GitHub App by default (`serve`), which asks for its settings", () => {
    expect(instruction("CMD")).toEqual(["serve"]);
    const result = runImage([], tmp.path);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^leakwarden serve: (APP_ID|WEBHOOK_SECRET) is r/);
  });

  it("lets git scan a mounted repository owned by another user", () => {
    expect(dockerfile).toMatch(/git config --system safe\.directory '\*'/);
  });

  it("keeps secrets and leakwarden's data out of the build context and out of git", () => {
    const secrets = [".env", ".env.production", "app.private-key.pem", ".leakwarden/leakwarden.db"];
    const dockerignore = ignore().add(readFileSync(join(ROOT, ".dockerignore"), "utf8"));
    for (const path of secrets) expect(dockerignore.ignores(path), path).toBe(true);
    expect(dockerignore.ignores(".env.example")).toBe(false);

    // git's own verdict on the repository's .gitignore.
    const repo = join(tmp.path, "git");
    mkdirSync(repo);
    writeFileSync(join(repo, ".gitignore"), readFileSync(join(ROOT, ".gitignore")));
    const env = testGitEnv(tmp.path);
    spawnSync("git", ["init", "-q"], { cwd: repo, env });
    const check = spawnSync("git", ["check-ignore", "--no-index", ...secrets, ".env.example", "src/app.ts"], {
      cwd: repo,
      env,
      encoding: "utf8",
    });
    expect(check.stdout.trim().split("\n")).toEqual(secrets);
  });
});
