import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GitCache } from "../../src/app/git-cache.js";
import { commentOutcome } from "../../src/app/issues.js";
import { WritePacer } from "../../src/app/pacing.js";
import { ScanProcessor, type ScanProcessorOptions } from "../../src/app/processor.js";
import {
  type BreachReport,
  type ReportJob,
  type ReportPayload,
  ReportProcessor,
} from "../../src/app/report-jobs.js";
import { type PushScan, SCAN_KIND, type ScanJob, type ScanPayload } from "../../src/app/scan-jobs.js";
import { Registry } from "../../src/registry/registry.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { RevocationWorker } from "../../src/revoke/worker.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret } from "../../src/scan/secret.js";
import { DEFAULT_ARCHIVE_LIMITS } from "../../src/sources/log-archive.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";
import { TestOctokit } from "../support/probot.js";
import { tokens } from "../support/tokens.js";
import { buildZip } from "../support/zip.js";

const API = "https://api.github.com";
const VSSPS = "https://vssps.example.test";
const dir = tempDir();
const t = tokens(9090);
const pat = t.adoPat();
const authorizationId = "5f0a4e0e-1b2c-4d5e-8f90-123456789abc";
const store = await openStore({ path: join(dir.path, "app.db"), env: {} });
const revokers = createRevokers({ LEAKWARDEN_ADO_TOKEN: "entra-token", LEAKWARDEN_ADO_VSSPS_URL: VSSPS }, {});
const logs: string[] = [];
let queued = 0;
const processor = new ScanProcessor({
  store,
  octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
  revokers,
  revocationsQueued: () => queued++,
  reportsQueued: () => {},
  cache: new GitCache({ root: join(dir.path, "cache"), maxBytes: 1e9, remote: join(dir.path, "served") }),
  rules: loadRules(),
  maxFileSize: 1e6,
  archiveLimits: DEFAULT_ARCHIVE_LIMITS,
  log: (line) => logs.push(line),
});
const reporter = new ReportProcessor({
  store,
  octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
  pacer: new WritePacer(0),
  reportsQueued: () => {},
  log: (line) => logs.push(line),
});

/** The scan stage, then the report stage it queued: what a push or run ends in. */
async function scanAndReport(scan: ScanJob) {
  const result = await processor.process(scan);
  const report =
    result.reportJobId === undefined ? undefined : await store.jobs.byId<ReportPayload>(result.reportJobId);
  if (report) await reporter.process(report);
  const key = report?.payload.breachKey;
  return { ...result, issue: key ? await store.breaches.byKey(key) : undefined };
}

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
let payload: ScanPayload;

beforeAll(async () => {
  nock.disableNetConnect();
  await new Registry(store).add(new Secret(pat), {
    provider: "azure-devops",
    org: "contoso",
    authorizationId,
    name: "deploy",
  });
  const work = join(dir.path, "work");
  mkdirSync(work);
  git(work, "init", "--quiet", "--initial-branch=main");
  git(work, "config", "user.email", "dana@example.com");
  git(work, "config", "user.name", "Dana Dev");
  writeFileSync(join(work, "deploy.sh"), `export AZURE_DEVOPS_EXT_PAT=${pat}\n`);
  git(work, "add", ".");
  git(work, "commit", "--quiet", "-m", "deploy");
  const after = git(work, "rev-parse", "HEAD");
  for (const name of ["app", "fork", "pub", "pub2", "quiet"])
    git(dir.path, "clone", "--quiet", "--bare", work, join("served", "acme", `${name}.git`));
  payload = {
    type: "push",
    installation: 1,
    repository: {
      owner: "acme",
      name: "app",
      fullName: "acme/app",
      htmlUrl: "https://github.com/acme/app",
      visibility: "private",
    },
    ref: "refs/heads/main",
    before: "0".repeat(40),
    after,
    pusher: "dana-dev",
  };
});
afterEach(() => nock.cleanAll());
afterAll(async () => {
  await store.close();
  dir.remove();
});

async function job(): Promise<ScanJob> {
  return (
    await store.jobs.enqueue<ScanPayload>({
      kind: SCAN_KIND,
      key: "test-push",
      queue: SCAN_KIND,
      payload,
      maxAttempts: 1,
    })
  ).job;
}

/** A scan processor on a git cache of its own (a folder of the test's), with the shared store and revokers. */
function processorOn(folder: string, options: Partial<ScanProcessorOptions> = {}) {
  const cache = new GitCache({
    root: join(dir.path, folder),
    maxBytes: 1e9,
    remote: join(dir.path, "served"),
  });
  const processor = new ScanProcessor({
    store,
    octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
    revokers,
    revocationsQueued: () => {},
    reportsQueued: () => {},
    cache,
    rules: loadRules(),
    maxFileSize: 1e6,
    archiveLimits: DEFAULT_ARCHIVE_LIMITS,
    log: () => {},
    ...options,
  });
  return { cache, processor };
}

function noSettingsFile() {
  // Probot's config loader looks in the repository, then in the organisation's .github repository.
  nock(API)
    .get("/repos/acme/app/contents/.github%2Fleakwarden.yml")
    .reply(404)
    .get("/repos/acme/.github/contents/.github%2Fleakwarden.yml")
    .times(2) // and once more for the organisation's routing (issues.repository)
    .reply(404);
}

/** The organisation has no settings of its own (its routing is read whatever the repository's file says). */
function noOrgSettings() {
  nock(API).get("/repos/acme/.github/contents/.github%2Fleakwarden.yml").reply(404);
}

describe("processing a push that leaks a registered Azure DevOps PAT", () => {
  let issueBody = "";

  it("scans the pushed commits, queues the revocation and opens one labelled issue", async () => {
    noSettingsFile();
    nock(API)
      .get("/repos/acme/app/labels/security")
      .reply(404)
      .post("/repos/acme/app/labels", (body) => body.name === "security")
      .reply(201, {})
      .get("/repos/acme/app/labels/leaked-credential")
      .reply(200, { name: "leaked-credential" })
      .post("/repos/acme/app/issues", (body) => {
        issueBody = body.body;
        return (
          body.labels.join() === "security,leaked-credential" &&
          /^Leaked Azure DevOps PAT in push to main$/.test(body.title)
        );
      })
      .reply(201, { number: 12, html_url: "https://github.com/acme/app/issues/12" });
    const result = await scanAndReport(await job());
    expect(result).toMatchObject({ findings: 1, issue: { issueNumber: 12 } });
    expect(queued).toBe(1);
    expect(issueBody).toContain(`\`…${pat.slice(-4)}\``);
    expect(issueBody).toMatch(/revocation pending through the Azure DevOps Token Admin API/);
    expect(issueBody).not.toContain(pat);
  });

  it("a second run of the same job opens no second issue", async () => {
    noSettingsFile();
    const result = await scanAndReport(await job());
    expect(result.issue).toMatchObject({ issueNumber: 12 });
  });

  it("revokes by authorizationId, edits the status in the issue's table in place, and comments once", async () => {
    const revocation = nock(VSSPS)
      .post("/contoso/_apis/tokenadmin/revocations", [{ authorizationId }])
      .query({ "api-version": "7.1" })
      .matchHeader("authorization", "Bearer entra-token")
      .reply(204);
    let comment = "";
    let edited = "";
    nock(API)
      .get("/repos/acme/app/issues/12")
      .reply(200, () => ({ number: 12, body: issueBody }))
      .patch("/repos/acme/app/issues/12", (body) => {
        edited = body.body;
        return true;
      })
      .reply(200, {})
      .post("/repos/acme/app/issues/12/comments", (body) => {
        comment = body.body;
        return true;
      })
      .reply(201, { id: 1 });
    const worker = new RevocationWorker({ store, revokers });
    const comments: Promise<number>[] = [];
    worker.onOutcome((outcome) => {
      const view = { status: outcome.outcome, provider: outcome.provider, at: outcome.at };
      comments.push(
        commentOutcome(async () => new TestOctokit({ auth: "x" }), store, outcome.secretHash, view),
      );
    });
    await worker.drain({ maxWaitMs: 5000 });
    expect(await Promise.all(comments)).toEqual([1]);
    expect(revocation.isDone()).toBe(true);
    expect(comment).toMatch(
      new RegExp(`✅ \`…${pat.slice(-4)}\`.*: revoked at .* through the Azure DevOps Token Admin API`),
    );
    expect(comment).not.toContain(pat);
    // The table says revoked now, and the exposure window has its end; nothing else in the body moved.
    expect(issueBody).toMatch(/<!--lw:cell \w{12}-->revocation pending<!--\/lw:cell-->/);
    expect(edited).toMatch(/<!--lw:cell \w{12}-->revoked<!--\/lw:cell--> \|$/m);
    expect(edited).toMatch(
      /Exposed from \d{4}-\d\d-\d\d \d\d:\d\d UTC \(committed\) to \d{4}-.* UTC \(revoked\): \d+ (s|min)\./,
    );
    expect(edited).not.toContain("revocation pending");
    expect(edited.replace(/<!--lw:(cell|did)[\s\S]*?<!--\/lw:\1-->/g, "")).toBe(
      issueBody.replace(/<!--lw:(cell|did)[\s\S]*?<!--\/lw:\1-->/g, ""),
    );
    expect(edited).not.toContain(pat);
    // Told once: a repeated outcome finds nothing left to comment.
    expect(
      await commentOutcome(
        async () => new TestOctokit({ auth: "x" }),
        store,
        (await store.tokens.list())[0]?.secretHash ?? "",
        { status: "revoked", provider: "azure-devops", at: null },
      ),
    ).toBe(0);
  });

  it("kept the token out of the database and the logs", () => {
    for (const file of ["app.db", "app.db-wal"]) {
      let bytes = Buffer.alloc(0);
      try {
        bytes = readFileSync(join(dir.path, file));
      } catch {}
      expect(bytes.includes(Buffer.from(pat))).toBe(false);
    }
    expect(logs.join("\n")).not.toContain(pat);
  });
});

describe("repository settings", () => {
  it("an invalid .github/leakwarden.yml is reported in the issue and defaults apply", async () => {
    noOrgSettings();
    nock(API)
      .get("/repos/acme/fork/contents/.github%2Fleakwarden.yml")
      .reply(200, "revoke: sometimes\n", { "content-type": "text/plain; charset=utf-8" });
    let body = "";
    nock(API)
      .get(/\/repos\/acme\/fork\/labels\/.*/)
      .times(2)
      .reply(200, {})
      .post("/repos/acme/fork/issues", (b) => {
        body = b.body;
        return true;
      })
      .reply(201, { number: 13, html_url: "https://github.com/acme/app/issues/13" });
    const other = (
      await store.jobs.enqueue<ScanPayload>({
        kind: SCAN_KIND,
        key: "test-push-2",
        queue: SCAN_KIND,
        // Another repository: its cache has not seen these commits yet.
        payload: { ...payload, repository: { ...payload.repository, name: "fork", fullName: "acme/fork" } },
        maxAttempts: 1,
      })
    ).job;
    await scanAndReport(other);
    expect(body).toMatch(
      /leakwarden\.yml` was ignored and defaults applied: "revoke" must be registered, live, all or off/,
    );
  });

  it("scan.pushes: false skips the push", async () => {
    noOrgSettings();
    nock(API)
      .get("/repos/acme/app/contents/.github%2Fleakwarden.yml")
      .reply(200, "scan:\n  pushes: false\n", { "content-type": "text/plain; charset=utf-8" });
    const result = await processor.process(await job());
    expect(result).toEqual({ findings: 0, skipped: "scan.pushes is off" });
  });

  it("are read while the push is fetched, and a push they say not to scan moves no ref in the cache", async () => {
    const { cache, processor: side } = processorOn("cache-side-by-side");
    const repository = { ...payload.repository, name: "quiet", fullName: "acme/quiet" };
    const { after } = payload as PushScan;
    const cached = cache.pathFor("acme/quiet");
    const fetched = () => {
      try {
        execFileSync("git", ["--git-dir", cached, "cat-file", "-e", `${after}^{commit}`], {
          stdio: "ignore",
        });
        return true;
      } catch {
        return false;
      }
    };
    const push = async (key: string) =>
      (
        await store.jobs.enqueue<ScanPayload>({
          kind: SCAN_KIND,
          key,
          queue: SCAN_KIND,
          payload: { ...payload, repository } as PushScan,
          maxAttempts: 1,
        })
      ).job;
    // GitHub answers the settings only once the push's commit is in the cache: were the fetch to wait for
    // the settings, this would never answer, and the read would fail.
    let answeredAfterFetch = false;
    nock(API)
      .get("/repos/acme/.github/contents/.github%2Fleakwarden.yml")
      .reply(404)
      .get("/repos/acme/quiet/contents/.github%2Fleakwarden.yml")
      .reply((_uri, _body, callback) => {
        const started = Date.now();
        const look = () => {
          if (fetched()) {
            answeredAfterFetch = true;
            callback(null, [
              200,
              "scan:\n  pushes: false\n",
              { "content-type": "text/plain; charset=utf-8" },
            ]);
          } else if (Date.now() - started > 10_000) callback(null, [500, "the fetch never came"]);
          else setTimeout(look, 10);
        };
        look();
      });
    expect(await side.process(await push("side-1"))).toEqual({ findings: 0, skipped: "scan.pushes is off" });
    expect(answeredAfterFetch).toBe(true);
    // Fetched, not scanned: no ref says so, and once scanning is on the same commit is read and its leak found.
    expect(() =>
      execFileSync("git", ["--git-dir", cached, "rev-parse", "--verify", "refs/heads/main"], {
        stdio: "ignore",
      }),
    ).toThrow();
    noSettingsFile();
    nock(API).get("/repos/acme/quiet/labels/security").reply(200, {});
    const scanned = await side.process(await push("side-2"));
    expect(scanned.findings).toBe(1);
    expect(git(dir.path, "--git-dir", cached, "rev-parse", "refs/heads/main")).toBe(after);
  });

  it("are read once for a while per repository, and again after a push to the default branch", async () => {
    const { processor: cached } = processorOn("cache-ttl", { settingsTtlMs: 60_000 });
    const push = async (key: string, ref: string) =>
      (
        await store.jobs.enqueue<ScanPayload>({
          kind: SCAN_KIND,
          key,
          queue: SCAN_KIND,
          payload: {
            ...(payload as PushScan),
            ref,
            repository: { ...payload.repository, defaultBranch: "main" },
          },
          maxAttempts: 1,
        })
      ).job;
    const off = () =>
      nock(API)
        .get("/repos/acme/app/contents/.github%2Fleakwarden.yml")
        .reply(200, "scan:\n  pushes: false\n", { "content-type": "text/plain; charset=utf-8" });
    off();
    expect(await cached.process(await push("ttl-1", "refs/heads/feature"))).toMatchObject({
      skipped: "scan.pushes is off",
    });
    // Kept: no second request (nock has none to answer it).
    expect(await cached.process(await push("ttl-2", "refs/heads/other"))).toMatchObject({
      skipped: "scan.pushes is off",
    });
    // A push to the default branch may have changed the file: it is read again.
    const again = off();
    expect(await cached.process(await push("ttl-3", "refs/heads/main"))).toMatchObject({
      skipped: "scan.pushes is off",
    });
    expect(again.isDone()).toBe(true);
  });
});

describe("processing a workflow run", () => {
  it("scans its logs, deletes them when the settings ask, and says so in the issue", async () => {
    const github = t.githubPat();
    noOrgSettings();
    nock(API)
      .get("/repos/acme/app/contents/.github%2Fleakwarden.yml")
      .reply(200, "logs:\n  delete: true\n", { "content-type": "text/plain; charset=utf-8" })
      .get("/repos/acme/app/actions/runs/5/logs")
      .reply(302, "", { location: "https://results.example.test/logs/5.zip" });
    nock("https://results.example.test")
      .get("/logs/5.zip")
      .reply(
        200,
        buildZip([
          { name: "../escape.txt", data: "x" },
          { name: "build/4_Publish.txt", data: `+ echo //npm.pkg.github.com/:_authToken=${github}\n` },
        ]),
      );
    const deleted = nock(API).delete("/repos/acme/app/actions/runs/5/logs").reply(204);
    let body = "";
    nock(API)
      .get(/\/repos\/acme\/app\/labels\/.*/)
      .times(2)
      .reply(200, {})
      .post("/repos/acme/app/issues", (b) => {
        body = b.body;
        return true;
      })
      .reply(201, { number: 14, html_url: "https://github.com/acme/app/issues/14" });
    const run = (
      await store.jobs.enqueue<ScanPayload>({
        kind: SCAN_KIND,
        key: "test-run",
        queue: SCAN_KIND,
        payload: {
          type: "workflow_run",
          installation: 1,
          repository: payload.repository,
          runId: 5,
          attempt: 1,
          runName: "Release",
          runUrl: "https://github.com/acme/app/actions/runs/5",
          actor: "dana-dev",
        },
        maxAttempts: 1,
      })
    ).job;
    expect(await scanAndReport(run)).toMatchObject({ findings: 1, issue: { issueNumber: 14 } });
    expect(deleted.isDone()).toBe(true);
    expect(body).toContain("log build/4\\_Publish.txt:1");
    expect(body).toContain("The run's logs were deleted");
    // One odd entry costs only itself, and the issue says so.
    expect(body).toContain(
      'Part of it could not be scanned: entry "../escape.txt" was skipped: its name is unsafe',
    );
    expect(body).toMatch(/not revoked automatically: not in the registry/);
    expect(body).not.toContain(github);
  });
});

describe("a public repository's push", () => {
  const publicJob = async (name: string) =>
    (
      await store.jobs.enqueue<ScanPayload>({
        kind: SCAN_KIND,
        key: `test-public-${name}`,
        queue: SCAN_KIND,
        payload: {
          ...payload,
          repository: { ...payload.repository, name, fullName: `acme/${name}`, visibility: "public" },
        },
        maxAttempts: 1,
      })
    ).job;
  const noSettings = (name: string) =>
    nock(API)
      .get(`/repos/acme/${name}/contents/.github%2Fleakwarden.yml`)
      .reply(404)
      .get("/repos/acme/.github/contents/.github%2Fleakwarden.yml")
      .times(2)
      .reply(404);

  it("is reported in LEAKWARDEN_SECURITY_REPO once GitHub says it is private, and nothing is written to it", async () => {
    const routed = new ReportProcessor({
      store,
      octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
      pacer: new WritePacer(0),
      reportsQueued: () => {},
      securityRepository: "ops/security",
      log: (line) => logs.push(line),
    });
    noSettings("pub");
    let opened = "";
    nock(API)
      .get("/repos/ops/security")
      .reply(200, { private: true, visibility: "private" })
      .get(/\/repos\/ops\/security\/labels\/.*/)
      .times(2)
      .reply(200, {})
      .post("/repos/ops/security/issues", (body) => {
        opened = body.body;
        return true;
      })
      .reply(201, { number: 3, html_url: "https://github.com/ops/security/issues/3" });
    const result = await processor.process(await publicJob("pub"));
    const report = await store.jobs.byId<ReportPayload>(result.reportJobId as number);
    await routed.process(report as ReportJob);
    expect(opened).toContain("of [acme/pub](https://github.com/acme/app)");
    expect(opened).not.toContain(pat);
    expect(await store.breaches.byKey(report?.payload.breachKey ?? "")).toMatchObject({
      repository: "acme/pub",
      issueRepository: "ops/security",
      issueNumber: 3,
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it("without a security repository opens no issue, audits why, and still queues the revocation", async () => {
    noSettings("pub2");
    const result = await processor.process(await publicJob("pub2"));
    const report = await store.jobs.byId<ReportPayload>(result.reportJobId as number);
    await reporter.process(report as ReportJob);
    const [withheld] = await store.audit.list({ action: "report.withheld" });
    expect(withheld?.subject).toBe("repository:acme/pub2");
    expect(JSON.stringify(withheld?.detail)).toMatch(/LEAKWARDEN_SECURITY_REPO/);
    expect(JSON.stringify(withheld?.detail)).not.toContain(pat);
    expect((await store.breaches.byKey(report?.payload.breachKey ?? ""))?.issueNumber).toBeNull();
    // The scan stage acted on the token before and whatever the report stage does.
    const [reported] = ((report as ReportJob).payload as BreachReport).breach.findings;
    expect(["pending", "revoked", "already-revoked"]).toContain(reported?.revocation.status);
    expect(logs.join("\n")).toMatch(/acme\/pub2.*the breach was NOT reported on GitHub/);
  });
});
