// The package as users get it: `npm pack`, installed globally into a temporary prefix and run from another
// folder; installed as a project dependency, whose pre-commit hook (plain, and through husky) refuses a real
// `git commit` that adds a token, with no leakwarden on PATH. Dependencies come from the npm cache when they
// are there. The tarball is packed from the dist/ that `npm test` has just built.
import { type SpawnSyncOptions, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, tempDir } from "../support/cli.js";
import { testGitEnv } from "../support/git.js";
import { tokens } from "../support/tokens.js";

const t = tokens(3131);
const dir = tempDir("leakwarden-pack-");
let tarball = "";

/** Node and the system tools, and nothing that could be a leakwarden. */
const PATH = [dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter);

/** The child's environment without the npm_* settings of the `npm test` that runs us. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, PATH, NO_COLOR: "1", ...extra };
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    env: cleanEnv(),
    timeout: 240_000,
    ...options,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function npm(args: string[], cwd: string) {
  const result = run("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd,
  });
  if (result.code !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${result.stderr}`);
  return result;
}

beforeAll(() => {
  expect(existsSync(join(ROOT, "dist", "cli", "main.js")), "run npm run build first").toBe(true);
  const packed = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir.path], {
    cwd: ROOT,
  });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir.path, info?.filename as string);
  const files = info?.files.map((f) => f.path) ?? [];
  // What the installed command needs: the entry point, the compiled code, the built rule cache and the rules.
  for (const needed of [
    "bin/leakwarden.js",
    "dist/cli/main.js",
    "dist/rules.compiled.json",
    "rules/github.yml",
  ])
    expect(files).toContain(needed);
  expect(files.filter((f) => f.endsWith(".map") || f.startsWith("src/") || f.startsWith("test/"))).toEqual(
    [],
  );
}, 120_000);
afterAll(dir.remove);

/** A folder outside the checkout with one generated token in it. */
function leakyFolder(name: string): { path: string; token: string } {
  const path = join(dir.path, name);
  mkdirSync(path, { recursive: true });
  const token = t.githubPat();
  writeFileSync(join(path, "deploy.sh"), `export GITHUB_TOKEN=${token}\n`);
  return { path, token };
}

describe("npm install -g of the packed tarball", () => {
  it("puts a leakwarden command on the prefix's PATH that scans from any folder", () => {
    const prefix = join(dir.path, "prefix");
    npm(["install", "--global", "--prefix", prefix, tarball], dir.path);
    const bin = join(prefix, "bin", "leakwarden");
    expect(existsSync(bin)).toBe(true);
    const elsewhere = leakyFolder("elsewhere");
    const env = cleanEnv({ PATH: `${join(prefix, "bin")}${delimiter}${PATH}` });
    const version = run("leakwarden", ["--version"], { cwd: elsewhere.path, env });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const scan = run("leakwarden", ["scan", "--format", "json", "."], { cwd: elsewhere.path, env });
    expect(scan.code, scan.stderr).toBe(1);
    const report = JSON.parse(scan.stdout);
    expect(report.findings.map((f: { ruleId: string; file: string }) => `${f.ruleId} ${f.file}`)).toEqual([
      "github-pat deploy.sh",
    ]);
    expect(scan.stdout).not.toContain(elsewhere.token);
  }, 240_000);
});

describe("leakwarden as a project dependency, with its pre-commit hook", () => {
  const project = join(dir.path, "app");
  const home = join(dir.path, "home");
  const gitEnv = () => cleanEnv({ ...testGitEnv(home), PATH });
  const git = (...args: string[]) => run("git", args, { cwd: project, env: gitEnv() });

  beforeAll(() => {
    mkdirSync(project, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "app", private: true, version: "1.0.0" }),
    );
    npm(["install", "--save-dev", tarball], project);
    expect(git("init", "-q").code).toBe(0);
    // Nothing named leakwarden on the PATH the hook runs with: only the project's installation can answer.
    expect(run("sh", ["-c", "command -v leakwarden"], { env: gitEnv() }).code).not.toBe(0);
  }, 240_000);

  const commitLeak = (file: string) => {
    const token = t.githubPat();
    writeFileSync(join(project, file), `token: ${token}\n`);
    git("add", file);
    const commit = git("commit", "-m", `add ${file}`);
    return { commit, token };
  };

  it("installs a hook that names no absolute path first, and blocks a commit that adds a token", () => {
    const install = run(join(project, "node_modules", ".bin", "leakwarden"), ["hook", "install"], {
      cwd: project,
      env: gitEnv(),
    });
    expect(install.code, install.stderr).toBe(0);
    const hook = readFileSync(join(project, ".git", "hooks", "pre-commit"), "utf8");
    expect(hook.indexOf("./node_modules/.bin/leakwarden scan --staged")).toBeLessThan(
      hook.indexOf(process.execPath),
    );

    const { commit, token } = commitLeak("config.yml");
    expect(commit.code).not.toBe(0);
    expect(commit.stderr + commit.stdout).toMatch(/github-pat/);
    expect(commit.stderr + commit.stdout).not.toContain(token);
    expect(git("rev-parse", "--verify", "-q", "HEAD").code).not.toBe(0); // nothing was committed

    writeFileSync(join(project, "config.yml"), "token: $GITHUB_TOKEN\n");
    git("add", "config.yml");
    expect(git("commit", "-m", "clean").code).toBe(0);
  });

  it("works with husky: a block in .husky/pre-commit, run through core.hooksPath", () => {
    npm(["install", "--save-dev", "husky@^9"], project);
    const setup = run(join(project, "node_modules", ".bin", "husky"), [], { cwd: project, env: gitEnv() });
    expect(setup.code, setup.stderr).toBe(0);
    expect(git("config", "core.hooksPath").stdout.trim()).toBe(".husky/_");
    writeFileSync(join(project, ".husky", "pre-commit"), "echo checks ran > .husky-ran\n");

    const install = run("node", [join(project, "node_modules", ".bin", "leakwarden"), "hook", "install"], {
      cwd: project,
      env: gitEnv(),
    });
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toMatch(/husky pre-commit hook: .*\.husky\/pre-commit/);
    const shared = readFileSync(join(project, ".husky", "pre-commit"), "utf8");
    expect(shared).toMatch(/^echo checks ran/); // what was there stays
    expect(shared).not.toContain(dir.path); // committed with the project: no path on this machine
    // Installing again replaces the block instead of adding a second one.
    run("node", [join(project, "node_modules", ".bin", "leakwarden"), "hook", "install"], {
      cwd: project,
      env: gitEnv(),
    });
    expect(readFileSync(join(project, ".husky", "pre-commit"), "utf8")).toBe(shared);

    const { commit } = commitLeak("secrets.env");
    expect(commit.code).not.toBe(0);
    expect(commit.stderr + commit.stdout).toMatch(/github-pat/);
    expect(existsSync(join(project, ".husky-ran"))).toBe(true);
  }, 240_000);

  it("runs the pre-commit framework's entry (.pre-commit-hooks.yaml) on what is staged", async () => {
    const { parse } = await import("yaml");
    const [hook] = parse(readFileSync(join(ROOT, ".pre-commit-hooks.yaml"), "utf8"));
    expect(hook).toMatchObject({ id: "leakwarden", language: "node", pass_filenames: false });
    const token = t.githubPat();
    writeFileSync(join(project, "staged.env"), `TOKEN=${token}\n`);
    git("add", "staged.env");
    // pre-commit puts its Node environment's bin folder on PATH and runs the entry at the top of the tree.
    const env = cleanEnv({
      ...testGitEnv(home),
      PATH: `${join(project, "node_modules", ".bin")}${delimiter}${PATH}`,
    });
    const entry = run("sh", ["-c", hook.entry], { cwd: project, env });
    expect(entry.code).toBe(1);
    expect(entry.stdout).toMatch(/staged\.env\n.*github-pat/);
    expect(entry.stdout).not.toContain(token);
    git("rm", "-q", "--cached", "staged.env");
  });

  it("fails closed when leakwarden is not installed where the hook runs", () => {
    const moved = join(dir.path, "moved-bin");
    mkdirSync(moved, { recursive: true });
    run("mv", [join(project, "node_modules", ".bin", "leakwarden"), moved]);
    try {
      writeFileSync(join(project, "clean.txt"), "nothing\n");
      git("add", "clean.txt");
      const commit = git("commit", "-m", "clean");
      expect(commit.code).not.toBe(0);
      expect(commit.stderr).toMatch(/leakwarden is not installed here/);
    } finally {
      run("mv", [join(moved, "leakwarden"), join(project, "node_modules", ".bin")]);
    }
  });
});
