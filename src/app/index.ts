// The GitHub App: Probot receives and verifies webhooks, thin handlers queue scans, the pipeline's stages (scan,
// revoke, report) do the work, and GET /healthz tells a load balancer whether all of it is alive.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { Probot, ProbotOctokit, Server } from "probot";
import { createRevokers } from "../revoke/providers.js";
import { loadRules } from "../scan/rules.js";
import { DEFAULT_MAX_FILE_SIZE } from "../scan/run.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../sources/log-archive.js";
import { openStore, type Store } from "../store/index.js";
import type { ServeConfig } from "./config.js";
import { GitCache } from "./git-cache.js";
import { registerHandlers } from "./handlers.js";
import { serveLogger } from "./log.js";
import { Pipeline } from "./pipeline.js";

export const WEBHOOK_PATH = "/api/github/webhooks";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface AppOptions {
  config: ServeConfig;
  env: NodeJS.ProcessEnv;
  /** Octokit class for installations; tests turn retries off. */
  Octokit?: typeof ProbotOctokit;
  /** Where log lines go; default: pino JSON lines on stdout, or pretty lines on a terminal. */
  log?: Logger;
}

/** The same Octokit, with the throttling plugin off (the report stage paces writes per installation). */
function withoutThrottling(Octokit: typeof ProbotOctokit): typeof ProbotOctokit {
  return Octokit.defaults((options: Record<string, unknown>) => ({
    ...options,
    throttle: { ...(options.throttle as object), enabled: false },
  }));
}

export function health(stages: () => Record<string, unknown>): {
  status: number;
  body: Record<string, unknown>;
} {
  try {
    return { status: 200, body: { status: "ok", database: "ok", queue: stages() } };
  } catch (error) {
    return { status: 503, body: { status: "unavailable", database: (error as Error).message } };
  }
}

export class LeakwardenApp {
  readonly store: Store;
  readonly pipeline: Pipeline;
  private probot: Probot | undefined;
  private server: Server | undefined;
  private readonly log: Logger;

  constructor(private readonly options: AppOptions) {
    const { config, env } = options;
    this.log = options.log ?? serveLogger(config.logLevel);
    this.store = openStore({ path: config.dbPath, env, actor: "leakwarden-app" });
    this.pipeline = new Pipeline({
      store: this.store,
      octokitFor: (installation) => this.octokitFor(installation),
      revokers: createRevokers(env, config.baseUrl ? { githubApiUrl: config.baseUrl } : {}),
      cache: new GitCache({ root: config.cacheDir, maxBytes: config.cacheMaxBytes }),
      rules: loadRules(),
      maxFileSize: DEFAULT_MAX_FILE_SIZE,
      archiveLimits: DEFAULT_ARCHIVE_LIMITS,
      scanConcurrency: config.concurrency,
      reportConcurrency: config.reportConcurrency,
      writeIntervalMs: config.writeIntervalMs,
      log: (message) => this.log.info(message),
      warn: (message) => this.log.warn(message),
    });
  }

  private async octokitFor(installation: number): Promise<Octokit> {
    if (!this.probot) throw new Error("the app is not running");
    return (await this.probot.auth(installation)) as Octokit;
  }

  /** The Probot application function: handlers, /healthz, and the workers. */
  private readonly appFn = (
    app: Probot,
    { addHandler }: { addHandler: (handler: (req: IncomingMessage, res: ServerResponse) => boolean) => void },
  ) => {
    this.probot = app;
    registerHandlers(app, this.store, () => this.pipeline.scansQueued());
    addHandler((req, res) => {
      if (req.method !== "GET" || req.url !== "/healthz") return false;
      const { status, body } = health(() => this.pipeline.health());
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      return true;
    });
    this.pipeline.start();
  };

  async start(): Promise<Server> {
    const { config } = this.options;
    const ProbotWithSettings = Probot.defaults({
      appId: config.appId,
      privateKey: config.privateKey,
      secret: config.webhookSecret,
      logLevel: config.logLevel,
      log: this.log,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      // The report stage paces GitHub writes per installation; Octokit's own throttle would pace them all
      // together, across installations, and hold every stage behind it.
      Octokit: withoutThrottling(this.options.Octokit ?? ProbotOctokit),
    });
    this.server = new Server({
      log: this.log,
      Probot: ProbotWithSettings,
      port: config.port,
      host: config.host,
      webhookPath: WEBHOOK_PATH,
      enableStaticFiles: false,
    });
    await this.server.load(this.appFn as Parameters<Server["load"]>[0]);
    await this.server.start();
    return this.server;
  }

  /** Stops taking webhooks, lets the running jobs finish, closes the database. */
  async stop(): Promise<void> {
    await this.server?.stop();
    await this.pipeline.stop();
    this.store.close();
  }
}
