// The GitHub App: our HTTP server caps and verifies webhooks, Probot dispatches them to thin handlers that queue
// scans, the pipeline's stages (scan, revoke, report) do the work, and GET /healthz tells a load balancer
// whether all of it is alive.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { alertConfigFrom } from "../alerts/config.js";
import { GitHubOAuth, githubUrls } from "../console/github-oauth.js";
import { ConsoleServer } from "../console/server.js";
import { createRevokers } from "../revoke/providers.js";
import type { RevokerSet } from "../revoke/types.js";
import { DEFAULT_MAX_FILE_SIZE } from "../scan/limits.js";
import { loadRules } from "../scan/rules.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../sources/log-archive.js";
import { openStore, type Store } from "../store/index.js";
import { LiveChecker, ttlFromEnv } from "../validate/checker.js";
import { validateSettings } from "../validate/settings.js";
import { AppIdentity } from "./app-identity.js";
import { registerBackfillHandlers } from "./backfill-handlers.js";
import { backfillConcurrencyFrom } from "./backfill-jobs.js";
import type { ServeConfig } from "./config.js";
import { GitCache } from "./git-cache.js";
import { registerHandlers } from "./handlers.js";
import { serveLogger } from "./log.js";
import { appOctokit } from "./octokit.js";
import { Pipeline } from "./pipeline.js";
import { createWebhookServer } from "./webhook-server.js";

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

export async function health(
  stages: () => Promise<Record<string, unknown>>,
  store?: Store,
): Promise<{
  status: number;
  body: Record<string, unknown>;
}> {
  try {
    const database = store ? { engine: store.engine, schemaVersion: await store.schemaVersion() } : {};
    return { status: 200, body: { status: "ok", database: "ok", ...database, queue: await stages() } };
  } catch (error) {
    return { status: 503, body: { status: "unavailable", database: (error as Error).message } };
  }
}

export class LeakwardenApp {
  readonly store: Store;
  readonly pipeline: Pipeline;
  /** The web console at /console, when the App's OAuth client is configured. */
  readonly console: ConsoleServer | undefined;
  private probot: Probot | undefined;
  private server: Server | undefined;
  private readonly log: Logger;

  /** Opens the database (migrating it) and builds the app on it. */
  static async open(options: AppOptions): Promise<LeakwardenApp> {
    const { config, env } = options;
    // LEAKWARDEN_DATABASE_URL (PostgreSQL, several replicas) when set, else the SQLite file.
    const where = env.LEAKWARDEN_DATABASE_URL?.trim() ? {} : { path: config.dbPath };
    return new LeakwardenApp(
      options,
      await openStore({ ...where, env, actor: "leakwarden-app", warmPool: true }),
    );
  }

  constructor(
    private readonly options: AppOptions,
    store: Store,
  ) {
    const { config, env } = options;
    this.log = options.log ?? serveLogger(config.logLevel, env.LOG_FORMAT);
    this.store = store;
    const urls = config.baseUrl ? { githubApiUrl: config.baseUrl } : {};
    const checker = new LiveChecker({
      store: this.store,
      settings: validateSettings(env, urls),
      ttlMs: ttlFromEnv(env),
    });
    const revokers = createRevokers(env, urls);
    this.pipeline = new Pipeline({
      store: this.store,
      octokitFor: (installation) => this.octokitFor(installation),
      revokers,
      alerts: alertConfigFrom(env),
      checker,
      cache: new GitCache({ root: config.cacheDir, maxBytes: config.cacheMaxBytes, remote: config.gitUrl }),
      rules: loadRules(),
      maxFileSize: DEFAULT_MAX_FILE_SIZE,
      archiveLimits: DEFAULT_ARCHIVE_LIMITS,
      scanConcurrency: config.concurrency,
      reportConcurrency: config.reportConcurrency,
      writeIntervalMs: config.writeIntervalMs,
      backfillConcurrency: backfillConcurrencyFrom(env),
      installationOf: (fullName) => this.installationOf(fullName),
      log: (message) => this.log.info(message),
      warn: (message) => this.log.warn(message),
      ...(config.securityRepository ? { securityRepository: config.securityRepository } : {}),
      ...(config.consoleUrl ? { consoleUrl: config.consoleUrl } : {}),
    });
    this.console = config.console && this.createConsole(config.console, revokers);
    this.pipeline.confirmations?.onOutcome((outcome) => {
      if (outcome.status === "did-not-take")
        this.log.error(
          `revocation did not take: ${outcome.preview} (${outcome.provider}): ${outcome.detail}`,
        );
    });
  }

  private createConsole(settings: NonNullable<ServeConfig["console"]>, revokers: RevokerSet): ConsoleServer {
    const urls = githubUrls(this.options.env);
    const oauth = new GitHubOAuth({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      ...urls,
      teams: settings.teams,
      installedOrgs: () => this.installedOrgs(),
    });
    return new ConsoleServer({
      store: this.store,
      signIn: { kind: "github", oauth },
      revokers,
      rules: loadRules(),
      sessionKey: settings.sessionSecret
        ? createHash("sha256").update(settings.sessionSecret).digest()
        : randomBytes(32),
      // Plain http only where a browser allows it without TLS: a console on this machine.
      secureCookies: settings.publicUrl
        ? settings.publicUrl.startsWith("https:")
        : !["localhost", "127.0.0.1", "::1"].includes(this.options.config.host),
      ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
      webUrl: urls.webUrl,
      revocationsQueued: () => this.pipeline.revocations.notify(),
    });
  }

  /** Organisations where the App is installed: their owners may use the console. */
  private async installedOrgs(): Promise<string[]> {
    if (!this.probot) return [];
    const octokit = (await this.probot.auth()) as Octokit;
    const installations = await octokit.paginate(octokit.rest.apps.listInstallations, { per_page: 100 });
    return installations
      .filter((i) => i.account && "type" in i.account && i.account.type === "Organization")
      .map((i) => (i.account as { login: string }).login);
  }

  /** The installation that covers a repository (asked as the App itself). */
  private async installationOf(fullName: string): Promise<number> {
    if (!this.probot) throw new Error("the app is not running");
    const [owner, repo] = fullName.split("/") as [string, string];
    const octokit = (await this.probot.auth()) as Octokit;
    return (await octokit.rest.apps.getRepoInstallation({ owner, repo })).data.id;
  }

  private async octokitFor(installation: number): Promise<Octokit> {
    if (!this.probot) throw new Error("the app is not running");
    return (await this.probot.auth(installation)) as Octokit;
  }

  /** GET /healthz: 200 when the database answers, 503 when not. */
  private readonly healthRoute = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "GET" || req.url !== "/healthz") return false;
    health(() => this.pipeline.health(), this.store).then(
      ({ status, body }) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body)),
      (error: Error) => res.writeHead(500).end(error.message),
    );
    return true;
  };

  /** Listens for webhooks and starts the workers; resolves with the address once listening. */
  async start(): Promise<AddressInfo> {
    const { config } = this.options;
    const probot = new Probot({
      appId: config.appId,
      privateKey: config.privateKey,
      secret: config.webhookSecret,
      logLevel: config.logLevel,
      log: this.log,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      // The report stage paces GitHub writes per installation; Octokit's own throttle would pace them all
      // together, across installations, and hold every stage behind it.
      Octokit: appOctokit(this.options.Octokit ?? ProbotOctokit, config.baseUrl),
    });
    await probot.ready();
    this.probot = probot;
    const identity = new AppIdentity(Number(config.appId), async () => (await probot.auth()) as Octokit);
    // Not awaited: a GitHub that does not answer now must not keep the server from starting.
    identity
      .learn()
      .catch((error: Error) => this.log.warn(`could not learn the App's slug: ${error.message}`));
    registerHandlers(
      probot,
      this.store,
      { scans: (key) => this.pipeline.scansQueued(key), texts: () => this.pipeline.textsQueued() },
      identity,
    );
    registerBackfillHandlers(probot, this.store, {
      backfills: () => this.pipeline.backfills.notify(),
      pullRequests: () => this.pipeline.pullRequests.notify(),
    });
    const routes = (req: IncomingMessage, res: ServerResponse) =>
      this.healthRoute(req, res) || (this.console?.handle(req, res) ?? false);
    const server = createWebhookServer({ probot, path: WEBHOOK_PATH, routes });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: config.port, host: config.host }, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.log.info(`Listening on http://${config.host}:${address.port}`);
    await this.pipeline.start();
    return address;
  }

  /** Stops taking webhooks, lets the running jobs finish, closes the database. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.pipeline.stop();
    await this.store.close();
  }
}
