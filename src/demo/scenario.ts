// The whole flow on one machine, with no GitHub account: stand-ins for GitHub (API and git) and Azure DevOps,
// and the real `leakwarden serve` receiving signed webhooks. `npm run demo` narrates it; the
// end-to-end tests assert on it.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHmac, generateKeyPairSync, randomInt, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gitAuthEnv } from "../app/git-cache.js";
import { SAMPLE_FORMATS, SeededRandom } from "../scan/samples.js";
import { type AzureDevOpsStandIn, startAzureDevOpsStandIn } from "./azure-devops.js";
import { type GitHubStandIn, startGitHubStandIn, type WriteThrottle } from "./github.js";
import { json, type StandIn, startStandIn } from "./http.js";
import { childServerPort, portWasTaken } from "./ports.js";

export const CLI = fileURLToPath(new URL("../../bin/leakwarden.js", import.meta.url));
export const REPOSITORY = "acme/app";
export const INSTALLATION = 4242;
const ENTRA_TOKEN = "entra-access-token-for-the-demo";

export interface Scenario {
  dir: string;
  github: GitHubStandIn;
  ado: AzureDevOpsStandIn;
  /** Receives the app's alerts at POST /hook (LEAKWARDEN_ALERT_WEBHOOK_URL). */
  alerts: StandIn;
  env: NodeJS.ProcessEnv;
  appUrl: string;
  /** The server's process id, to watch its memory. */
  serverPid: number;
  /** Everything the server printed, for searching it. */
  output: () => string;
  /** Runs the CLI with the scenario's environment; stdin optional. */
  cli(args: string[], input?: string): Promise<{ status: number; stdout: string; stderr: string }>;
  /** Posts a webhook as GitHub does; `secret` overrides the signing secret. */
  deliver(
    event: string,
    payload: unknown,
    options?: { delivery?: string; secret?: string },
  ): Promise<{ status: number; delivery: string; text: string }>;
  /**
   * Commits files to a fresh branch of the work repository and pushes it; returns before and after. With
   * `onTop`, commits on the branch as it is (pushed before) instead: an update of an existing branch.
   */
  push(
    branch: string,
    files: Record<string, string>,
    message: string,
    options?: { onTop?: boolean },
  ): Promise<{ before: string; after: string }>;
  pushPayload(
    branch: string,
    update: { before: string; after: string },
    options?: { visibility?: "public" | "private" },
  ): Record<string, unknown>;
  workflowRunPayload(runId: number): Record<string, unknown>;
  /** Waits until `check` returns a value, polling. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL, as a crash) and starts it again on the same database and cache. */
  crashAndRestart(): Promise<void>;
}

const execGit = promisify(execFile);

/** Asynchronous on purpose: the git server answering this git runs in this same process. */
async function git(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  return (await execGit("git", args, { cwd, env, encoding: "utf8" })).stdout.trim();
}

async function waitForHealth(url: string, serve: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (serve.exitCode !== null)
      throw new Error(`leakwarden serve exited with ${serve.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`leakwarden serve did not become healthy:\n${output()}`);
}

export interface ScenarioOptions {
  /** Added to (or, when undefined, removed from) the server's environment: LOG_LEVEL, another Azure credential. */
  env?: Record<string, string | undefined>;
  /** Which Authorization headers the Azure DevOps stand-in accepts; default the demo's static token. */
  adoBearer?: (authorization: string | undefined) => boolean;
  /** GitHub-like secondary rate limits on the stand-in's writes. */
  githubThrottle?: WriteThrottle;
  /** Node options for the serve process (the load benchmark preloads its memory probe). */
  nodeArgs?: string[];
}

export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const dir = mkdtempSync(join(tmpdir(), "leakwarden-demo-"));
  const rng = new SeededRandom(randomInt(2 ** 31));
  const mintPat = SAMPLE_FORMATS["azure-devops-pat"] as (r: SeededRandom) => string;
  mkdirSync(join(dir, "served", "acme"), { recursive: true });
  const github = await startGitHubStandIn(
    join(dir, "served"),
    options.githubThrottle ? { throttle: options.githubThrottle } : {},
  );
  const ado = await startAzureDevOpsStandIn(() => mintPat(rng), options.adoBearer ?? ENTRA_TOKEN);
  const alerts = await startStandIn([["POST /hook", () => (_req, res) => json(res, 204)]]);

  // The served repository, and a working copy that pushes to it with the installation token.
  const served = join(dir, "served", "acme", "app.git");
  const work = join(dir, "work");
  const pushEnv = {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    ...gitAuthEnv(github.installationToken, github.url),
    GIT_AUTHOR_NAME: "Dana Dev",
    GIT_AUTHOR_EMAIL: "dana@example.com",
    GIT_COMMITTER_NAME: "Dana Dev",
    GIT_COMMITTER_EMAIL: "dana@example.com",
  };
  await git(dir, pushEnv, "init", "--quiet", "--bare", "--initial-branch=main", served);
  await git(dir, pushEnv, "init", "--quiet", "--initial-branch=main", work);
  await git(work, pushEnv, "remote", "add", "origin", `${github.url}/acme/app.git`);
  await git(work, pushEnv, "commit", "--quiet", "--allow-empty", "-m", "Initial commit");
  await git(work, pushEnv, "push", "--quiet", "origin", "main");

  let port = childServerPort();
  let appUrl = `http://127.0.0.1:${port}`;
  const webhookSecret = randomUUID();
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    APP_ID: "1",
    PRIVATE_KEY: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    WEBHOOK_SECRET: webhookSecret,
    PORT: String(port),
    HOST: "127.0.0.1",
    GHE_HOST: github.url.replace(/^http:\/\//, ""),
    GHE_PROTOCOL: "http",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    LEAKWARDEN_DB: join(dir, "leakwarden.db"),
    LEAKWARDEN_CACHE: join(dir, "repos"),
    LEAKWARDEN_ADO_VSSPS_URL: ado.url,
    LEAKWARDEN_ADO_URL: ado.url,
    LEAKWARDEN_ADO_TOKEN: ENTRA_TOKEN,
    LEAKWARDEN_GITHUB_API_URL: `${github.url}/api/v3`,
    // The console at /console signs in through the App's OAuth client on the same GitHub.
    GITHUB_CLIENT_ID: "Iv1.leakwarden-demo",
    GITHUB_CLIENT_SECRET: randomUUID(),
    LEAKWARDEN_CONSOLE_TEAMS: "acme/security",
    LEAKWARDEN_CONSOLE_URL: `${appUrl}/console`,
    LEAKWARDEN_ALERT_WEBHOOK_URL: `${alerts.url}/hook`,
    LEAKWARDEN_ALERT_WEBHOOK_SECRET: webhookSecret.split("").reverse().join(""),
    NO_COLOR: "1",
  };
  for (const [name, value] of Object.entries(options.env ?? {}))
    if (value === undefined) delete env[name];
    else env[name] = value;
  let printed = "";
  const startServe = () => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, "serve"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
    });
    return child;
  };
  const output = () => printed;
  let serve = startServe();
  // A port another process took meanwhile: start again on another (a few times at most).
  for (let tries = 1; ; tries++) {
    try {
      await waitForHealth(appUrl, serve, output);
      break;
    } catch (error) {
      if (tries >= 3 || !portWasTaken(printed)) throw error;
      const consoleUrl = `${appUrl}/console`;
      port = childServerPort();
      appUrl = `http://127.0.0.1:${port}`;
      env.PORT = String(port);
      if (env.LEAKWARDEN_CONSOLE_URL === consoleUrl) env.LEAKWARDEN_CONSOLE_URL = `${appUrl}/console`;
      printed = "";
      serve = startServe();
    }
  }
  const exited = (child: ChildProcess) =>
    new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve),
    );

  let pushes = 0;
  const scenario: Scenario = {
    dir,
    github,
    ado,
    alerts,
    env,
    appUrl,
    serverPid: serve.pid ?? 0,
    output,
    cli(args, input) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [CLI, ...args], { env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.on("close", (status) => resolve({ status: status ?? -1, stdout, stderr }));
        child.stdin.end(input ?? "");
      });
    },
    async deliver(event, payload, options = {}) {
      const body = JSON.stringify(payload);
      const delivery = options.delivery ?? randomUUID();
      const signature = `sha256=${createHmac("sha256", options.secret ?? webhookSecret)
        .update(body)
        .digest("hex")}`;
      const response = await fetch(`${appUrl}/api/github/webhooks`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/leakwarden-demo",
          "x-github-event": event,
          "x-github-delivery": delivery,
          "x-hub-signature-256": signature,
        },
        body,
      });
      return { status: response.status, delivery, text: await response.text() };
    },
    async push(branch, files, message, options = {}) {
      pushes++;
      if (options.onTop) await git(work, pushEnv, "checkout", "--quiet", branch);
      else await git(work, pushEnv, "checkout", "--quiet", "-B", branch, "main");
      const before = options.onTop ? await git(work, pushEnv, "rev-parse", "HEAD") : "0".repeat(40);
      for (const [path, content] of Object.entries(files)) writeFileSync(join(work, path), content);
      await git(work, pushEnv, "add", ".");
      await git(work, pushEnv, "commit", "--quiet", "-m", message);
      const after = await git(work, pushEnv, "rev-parse", "HEAD");
      await git(work, pushEnv, "push", "--quiet", "--force", "origin", branch);
      return { before, after };
    },
    pushPayload(branch, update, options = {}) {
      const visibility = options.visibility ?? "private";
      const repo = {
        name: "app",
        full_name: REPOSITORY,
        clone_url: `${github.url}/acme/app.git`,
        html_url: `https://github.com/${REPOSITORY}`,
      };
      return {
        ref: `refs/heads/${branch}`,
        before: update.before,
        after: update.after,
        created: /^0+$/.test(update.before),
        deleted: false,
        forced: false,
        base_ref: null,
        compare: `https://github.com/${REPOSITORY}/compare/${update.before.slice(0, 12)}...${update.after.slice(0, 12)}`,
        commits: [],
        head_commit: null,
        pusher: { name: "dana-dev", email: "dana@example.com" },
        repository: {
          id: 1,
          node_id: "R_1",
          private: visibility === "private",
          visibility,
          owner: { login: "acme", name: "acme", id: 2 },
          ...repo,
        },
        sender: { login: "dana-dev", id: 3, type: "User" },
        installation: { id: INSTALLATION, node_id: "I_1" },
      };
    },
    workflowRunPayload(runId) {
      return {
        action: "completed",
        workflow_run: {
          id: runId,
          name: "CI",
          run_attempt: 1,
          status: "completed",
          conclusion: "success",
          html_url: `https://github.com/${REPOSITORY}/actions/runs/${runId}`,
          logs_url: `${github.url}/api/v3/repos/${REPOSITORY}/actions/runs/${runId}/logs`,
          actor: { login: "dana-dev", id: 3 },
          triggering_actor: { login: "dana-dev", id: 3 },
          head_branch: "main",
          head_sha: "0".repeat(40),
        },
        workflow: { id: 9, name: "CI" },
        repository: {
          id: 1,
          name: "app",
          full_name: REPOSITORY,
          private: true,
          visibility: "private",
          owner: { login: "acme", id: 2 },
          clone_url: `${github.url}/acme/app.git`,
          html_url: `https://github.com/${REPOSITORY}`,
        },
        sender: { login: "dana-dev", id: 3, type: "User" },
        installation: { id: INSTALLATION, node_id: "I_1" },
      };
    },
    async until(what, check, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const value = check();
        if (value !== undefined && value !== false) return value as NonNullable<typeof value>;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(
        `timed out waiting for ${what} (${pushes} pushes); server output:\n${printed.slice(-4000)}`,
      );
    },
    async crashAndRestart() {
      serve.kill("SIGKILL");
      await exited(serve);
      serve = startServe();
      scenario.serverPid = serve.pid ?? 0;
      await waitForHealth(appUrl, serve, output);
    },
    async stop() {
      serve.kill("SIGTERM");
      await exited(serve);
      await Promise.all([github.close(), ado.close(), alerts.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return scenario;
}
