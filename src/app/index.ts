// The GitHub App: Probot receives and verifies webhooks, thin handlers queue scans, the scan runner and the
// revocation worker do the work, and GET /healthz tells a load balancer whether all of it is alive.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Probot, type ProbotOctokit, Server } from "probot";
import { alertConfigFrom, alertTargets } from "../alerts/config.js";
import { breachEvent, revocationEvent } from "../alerts/events.js";
import { enqueueAlert } from "../alerts/queue.js";
import type { AlertEvent } from "../alerts/render.js";
import { AlertWorker } from "../alerts/worker.js";
import { GitHubOAuth, githubUrls } from "../console/github-oauth.js";
import { ConsoleServer } from "../console/server.js";
import { createRevokers } from "../revoke/providers.js";
import { REVOKE_KIND, type RevokePayload } from "../revoke/queue.js";
import type { RevokerSet } from "../revoke/types.js";
import { RevocationWorker } from "../revoke/worker.js";
import { loadRules } from "../scan/rules.js";
import { DEFAULT_MAX_FILE_SIZE } from "../scan/run.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../sources/log-archive.js";
import { openStore, type Store } from "../store/index.js";
import type { ServeConfig } from "./config.js";
import { GitCache } from "./git-cache.js";
import { registerHandlers } from "./handlers.js";
import { commentOutcome, revokedThrough } from "./issues.js";
import { ScanProcessor } from "./processor.js";
import { SCAN_KIND, ScanJobRunner } from "./scan-jobs.js";

export const WEBHOOK_PATH = "/api/github/webhooks";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface AppOptions {
  config: ServeConfig;
  env: NodeJS.ProcessEnv;
  /** Octokit class for installations; tests turn retries and throttling off. */
  Octokit?: typeof ProbotOctokit;
}

export function health(store: Store): { status: number; body: Record<string, unknown> } {
  try {
    const counts = (kind: string) => {
      const c = store.jobs.counts(kind);
      return { pending: c.pending, running: c.running, failed: c.dead };
    };
    return {
      status: 200,
      body: {
        status: "ok",
        database: "ok",
        queue: { scans: counts(SCAN_KIND), revocations: counts(REVOKE_KIND) },
      },
    };
  } catch (error) {
    return { status: 503, body: { status: "unavailable", database: (error as Error).message } };
  }
}

export class LeakwardenApp {
  readonly store: Store;
  readonly runner: ScanJobRunner;
  readonly revocations: RevocationWorker;
  /** Delivers alerts to Slack, Teams and a signed webhook, when any is configured. */
  readonly alerts: AlertWorker | undefined;
  /** The web console at /console, when the App's OAuth client is configured. */
  readonly console: ConsoleServer | undefined;
  private probot: Probot | undefined;
  private server: Server | undefined;

  constructor(private readonly options: AppOptions) {
    const { config, env } = options;
    this.store = openStore({ path: config.dbPath, env, actor: "leakwarden-app" });
    const revokers = createRevokers(env, config.baseUrl ? { githubApiUrl: config.baseUrl } : {});
    const log = (message: string) => this.probot?.log.info(message);
    this.revocations = new RevocationWorker({ store: this.store, revokers, log });
    const processor = new ScanProcessor({
      store: this.store,
      octokitFor: (installation) => this.octokitFor(installation),
      revokers,
      revocationsQueued: () => this.revocations.notify(),
      cache: new GitCache({ root: config.cacheDir, maxBytes: config.cacheMaxBytes }),
      rules: loadRules(),
      maxFileSize: DEFAULT_MAX_FILE_SIZE,
      archiveLimits: DEFAULT_ARCHIVE_LIMITS,
      log,
    });
    this.console = config.console && this.createConsole(config.console, revokers);
    const alertConfig = alertConfigFrom(env);
    const alerts = alertTargets(alertConfig).length
      ? new AlertWorker({ store: this.store, config: alertConfig, log })
      : undefined;
    this.alerts = alerts;
    // Queued, never sent inline: a slow or failing endpoint cannot hold up a scan or a revocation.
    const alert = (event: AlertEvent | undefined) => {
      if (!alerts || !event) return;
      try {
        if (enqueueAlert(this.store, alertConfig, event).length) alerts.notify();
      } catch (error) {
        this.probot?.log.warn(`could not queue an alert: ${(error as Error).message}`);
      }
    };
    this.runner = new ScanJobRunner({
      store: this.store,
      concurrency: config.concurrency,
      handle: async (job) => {
        const result = await processor.process(job);
        if (result.issue?.opened) alert(breachEvent(this.store, result.issue.url));
        log(
          `scan job ${job.id} (${job.key}): ${result.findings} findings${result.issue ? `, issue #${result.issue.number}` : ""}${result.skipped ? `, ${result.skipped}` : ""}`,
        );
      },
      log: (message) => this.probot?.log.warn(message),
    });
    this.revocations.onOutcome((outcome) => {
      alert(revocationEvent(outcome));
      const job = this.store.jobs.byId<RevokePayload>(outcome.jobId);
      const via = job ? revokedThrough(job) : undefined;
      const view = {
        status: outcome.outcome,
        provider: outcome.provider,
        at: outcome.at,
        ...(outcome.detail ? { reason: outcome.detail } : {}),
        ...(via ? { via } : {}),
      };
      commentOutcome(
        (installation) => this.octokitFor(installation),
        this.store,
        outcome.secretHash,
        view,
      ).catch((error: Error) =>
        this.probot?.log.warn(`could not comment a revocation outcome: ${error.message}`),
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
      revocationsQueued: () => this.revocations.notify(),
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

  private async octokitFor(installation: number): Promise<Octokit> {
    if (!this.probot) throw new Error("the app is not running");
    return (await this.probot.auth(installation)) as Octokit;
  }

  /** The Probot application function: handlers, /healthz, and the workers. */
  private readonly appFn = (
    app: Probot,
    {
      addHandler,
    }: {
      addHandler: (
        handler: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>,
      ) => void;
    },
  ) => {
    this.probot = app;
    registerHandlers(app, this.store, () => this.runner.notify());
    addHandler((req, res) => {
      if (req.method !== "GET" || req.url !== "/healthz") return false;
      const { status, body } = health(this.store);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      return true;
    });
    const consoleServer = this.console;
    if (consoleServer) addHandler((req, res) => consoleServer.handle(req, res));
    this.runner.start();
    this.revocations.start();
    this.alerts?.start();
  };

  async start(): Promise<Server> {
    const { config } = this.options;
    const ProbotWithSettings = Probot.defaults({
      appId: config.appId,
      privateKey: config.privateKey,
      secret: config.webhookSecret,
      logLevel: config.logLevel,
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      ...(this.options.Octokit ? { Octokit: this.options.Octokit } : {}),
    });
    this.server = new Server({
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
    await Promise.all([this.runner.stop(), this.revocations.stop()]);
    await this.alerts?.stop();
    this.store.close();
  }
}
