// The GitHub App: our HTTP server caps and verifies webhooks, Probot dispatches them to thin handlers that queue
// scans, the scan runner and the revocation worker do the work, and GET /healthz tells a load balancer whether
// all of it is alive.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, type ProbotOctokit } from "probot";
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
import { LiveChecker, ttlFromEnv } from "../validate/checker.js";
import { CONFIRM_KIND, ConfirmationWorker } from "../validate/confirm.js";
import { validateSettings } from "../validate/settings.js";
import type { ServeConfig } from "./config.js";
import { GitCache } from "./git-cache.js";
import { registerHandlers } from "./handlers.js";
import { commentConfirmation, commentOutcome, revokedThrough } from "./issues.js";
import { ScanProcessor } from "./processor.js";
import { SCAN_KIND, ScanJobRunner } from "./scan-jobs.js";
import { createWebhookServer } from "./webhook-server.js";

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
        queue: {
          scans: counts(SCAN_KIND),
          revocations: counts(REVOKE_KIND),
          confirmations: counts(CONFIRM_KIND),
        },
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
  /** Re-checks revoked tokens until each revocation is confirmed, or found not to have taken. */
  readonly confirmations: ConfirmationWorker;
  /** Delivers alerts to Slack, Teams and a signed webhook, when any is configured. */
  readonly alerts: AlertWorker | undefined;
  /** The web console at /console, when the App's OAuth client is configured. */
  readonly console: ConsoleServer | undefined;
  private probot: Probot | undefined;
  private server: Server | undefined;

  constructor(private readonly options: AppOptions) {
    const { config, env } = options;
    this.store = openStore({ path: config.dbPath, env, actor: "leakwarden-app" });
    const urls = config.baseUrl ? { githubApiUrl: config.baseUrl } : {};
    const revokers = createRevokers(env, urls);
    const log = (message: string) => this.probot?.log.info(message);
    const checker = new LiveChecker({
      store: this.store,
      settings: validateSettings(env, urls),
      ttlMs: ttlFromEnv(env),
    });
    this.confirmations = new ConfirmationWorker({
      store: this.store,
      checker,
      log: (message) => this.probot?.log.warn(message),
    });
    this.revocations = new RevocationWorker({ store: this.store, revokers, log });
    const processor = new ScanProcessor({
      store: this.store,
      octokitFor: (installation) => this.octokitFor(installation),
      revokers,
      revocationsQueued: () => {
        this.revocations.notify();
        this.confirmations.notify();
      },
      checker,
      cache: new GitCache({ root: config.cacheDir, maxBytes: config.cacheMaxBytes, remote: config.gitUrl }),
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
      // The confirming check may be due now.
      this.confirmations.notify();
    });
    this.confirmations.onOutcome((outcome) => {
      if (outcome.status === "did-not-take")
        this.probot?.log.error(
          `revocation did not take: ${outcome.preview} (${outcome.provider}): ${outcome.detail}`,
        );
      commentConfirmation((installation) => this.octokitFor(installation), this.store, outcome).catch(
        (error: Error) =>
          this.probot?.log.warn(`could not comment a revocation's confirmation: ${error.message}`),
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

  /** GET /healthz: 200 when the database answers, 503 when not. */
  private readonly healthRoute = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "GET" || req.url !== "/healthz") return false;
    const { status, body } = health(this.store);
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    return true;
  };

  /** Listens for webhooks and starts the workers; resolves with the address once listening. */
  async start(): Promise<AddressInfo> {
    const { config, env } = this.options;
    const probot = new Probot({
      appId: config.appId,
      privateKey: config.privateKey,
      secret: config.webhookSecret,
      logLevel: config.logLevel,
      logFormat: env.LOG_FORMAT === "json" ? "json" : "pretty",
      ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}),
      ...(this.options.Octokit ? { Octokit: this.options.Octokit } : {}),
    });
    await probot.ready();
    this.probot = probot;
    registerHandlers(probot, this.store, () => this.runner.notify());
    const routes = (req: IncomingMessage, res: ServerResponse) =>
      this.healthRoute(req, res) || (this.console?.handle(req, res) ?? false);
    const server = createWebhookServer({ probot, path: WEBHOOK_PATH, routes });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: config.port, host: config.host }, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    probot.log.info(`Listening on http://${config.host}:${address.port}`);
    this.runner.start();
    this.revocations.start();
    this.confirmations.start();
    this.alerts?.start();
    return address;
  }

  /** Stops taking webhooks, lets the running jobs finish, closes the database. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([this.runner.stop(), this.revocations.stop(), this.confirmations.stop()]);
    await this.alerts?.stop();
    this.store.close();
  }
}
