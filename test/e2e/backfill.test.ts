// Backfill on install and pull requests from forks, end to end: the real `leakwarden serve` receiving signed
// webhooks, git over HTTP from the stand-in's git http-backend, the GitHub and Azure DevOps stand-ins.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALLATION, REPOSITORY, type Scenario, startScenario } from "../../src/demo/scenario.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import {
  revocationIndex as adoRevocationIndex,
  revocationsOf as adoRevocations,
  registerAdoPat,
} from "../support/scenario.js";
import { tokens } from "../support/tokens.js";

const execGit = promisify(execFile);
const t = tokens(20261130);
const pats = {
  branch: t.adoPat(),
  tag: t.adoPat(),
  later: t.adoPat(),
  push: t.adoPat(),
  pull: t.adoPat(),
  pullAgain: t.adoPat(),
  pullPublic: t.adoPat(),
};
const ids = Object.fromEntries(Object.keys(pats).map((name) => [name, randomUUID()])) as Record<
  keyof typeof pats,
  string
>;
let scenario: Scenario;
let work: string;
let installDelivery: string;

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Old Timer",
  GIT_AUTHOR_EMAIL: "old@example.com",
  GIT_COMMITTER_NAME: "Old Timer",
  GIT_COMMITTER_EMAIL: "old@example.com",
};
const git = async (...args: string[]) =>
  (await execGit("git", args, { cwd: work, env: gitEnv, encoding: "utf8" })).stdout.trim();

/** Commits files on a branch started from `from`, in the working copy; returns the commit. */
async function commit(branch: string, from: string, files: Record<string, string | null>, message: string) {
  await git("checkout", "--quiet", "-B", branch, from);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) await git("rm", "--quiet", path);
    else writeFileSync(join(work, path), content);
  }
  await git("add", "-A");
  await git("commit", "--quiet", "-m", message);
  return git("rev-parse", "HEAD");
}

const revocationsOf = (id: string) => adoRevocations(scenario, id);
const revocationIndex = (id: string) => adoRevocationIndex(scenario, id);
const health = async () =>
  (await (await fetch(`${scenario.appUrl}/healthz`)).json()) as {
    queue: { backfill: { repositories: Record<string, number> } & Record<string, unknown> };
  };
const historyIssues = () =>
  scenario.github.issues.filter((i) => /in the repository's history$/.test(i.title));

function installationPayload() {
  return {
    action: "created",
    installation: { id: INSTALLATION, account: { login: "acme", id: 2, type: "Organization" } },
    repository_selection: "selected",
    repositories: [{ id: 1, node_id: "R_1", name: "app", full_name: REPOSITORY, private: true }],
    sender: { login: "dana-dev", id: 3, type: "User" },
  };
}

function pullRequestPayload(action: string, number: number, base: string, head: string) {
  return {
    action,
    number,
    pull_request: {
      number,
      html_url: `https://github.com/${REPOSITORY}/pull/${number}`,
      user: { login: "outsider", id: 9 },
      base: { ref: "main", sha: base, repo: { full_name: REPOSITORY } },
      head: { ref: "patch-1", sha: head, repo: { full_name: "outsider/app" } },
    },
    repository: {
      id: 1,
      name: "app",
      full_name: REPOSITORY,
      html_url: `https://github.com/${REPOSITORY}`,
      private: true,
      owner: { login: "acme", id: 2 },
    },
    sender: { login: "outsider", id: 9, type: "User" },
    installation: { id: INSTALLATION, node_id: "I_1" },
  };
}

beforeAll(async () => {
  scenario = await startScenario();
  for (const [name, pat] of Object.entries(pats)) {
    await registerAdoPat(scenario, pat, ids[name as keyof typeof pats], ["--name", name]);
  }
  // History from before the App was installed: a leak on a branch that is not the default (removed again in a
  // later commit), and one in a commit that only an annotated tag reaches. Pushed straight into the served
  // repository: no webhook tells the App about it.
  work = mkdtempSync(join(tmpdir(), "leakwarden-backfill-work-"));
  const served = join(scenario.dir, "served", "acme", "app.git");
  await execGit("git", ["clone", "--quiet", served, work], { env: gitEnv });
  await commit(
    "old/feature",
    "origin/main",
    { "config.env": `AZURE_DEVOPS_PAT=${pats.branch}\n` },
    "Add config",
  );
  await commit("old/feature", "old/feature", { "config.env": null }, "Remove config");
  await commit("release-prep", "origin/main", { "release.sh": `export ADO_PAT=${pats.tag}\n` }, "Release");
  await git("tag", "-a", "v0.1", "-m", "First release");
  await git("push", "--quiet", "origin", "old/feature", "v0.1");
}, 60_000);

afterAll(async () => {
  await scenario?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("installing the App backfills each repository's history", () => {
  it("survives a crash mid-backfill: one summary issue, each registered token revoked once", async () => {
    const held = scenario.github.holdNextFetch();
    const delivered = await scenario.deliver("installation", installationPayload());
    expect(delivered.status).toBe(200);
    installDelivery = delivered.delivery;
    await held.reached;
    expect((await health()).queue.backfill).toMatchObject({ running: 1, repositories: { running: 1 } });
    // A crash while the history is being fetched: the next process resumes the job.
    await scenario.crashAndRestart();
    held.release();
    const issue = await scenario.until("the summary issue", () => historyIssues()[0], 60_000);
    await scenario.until(
      "the revocations",
      () => revocationsOf(ids.branch).length && revocationsOf(ids.tag).length,
    );
    expect(issue.title).toBe("Leaked 2 Azure DevOps PATs in the repository's history");
    expect(issue.body).toMatch(
      /scanned the whole history of \[acme\/app\]\([^)]*\) \(\d+ commits on 3 branches and tags\)/,
    );
    expect(issue.body).toContain(`\`…${pats.branch.slice(-4)}\``);
    expect(issue.body).toContain(`\`…${pats.tag.slice(-4)}\``);
    expect(issue.body).toContain("config.env:1");
    expect(issue.body).toContain("release.sh:1");
    expectNotInText([issue.title, issue.body, ...issue.comments], Object.values(pats));

    for (let i = 0; i < 100 && (await health()).queue.backfill.repositories.done !== 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(historyIssues()).toHaveLength(1);
    expect(revocationsOf(ids.branch)).toHaveLength(1);
    expect(revocationsOf(ids.tag)).toHaveLength(1);
  });

  it("shows its progress in /healthz and the audit log", async () => {
    const { queue } = await health();
    expect(queue.backfill).toMatchObject({
      pending: 0,
      running: 0,
      repositories: { queued: 0, running: 0, done: 1 },
    });
    expect(queue.backfill.repositories.commitsScanned).toBeGreaterThanOrEqual(4);
    const audit = await scenario.cli(["audit", "list", "--json", "--action", "backfill."]);
    expect(audit.status, audit.stderr).toBe(0);
    const actions = (JSON.parse(audit.stdout) as { action: string; detail: Record<string, unknown> }[]).map(
      (e) => e.action,
    );
    expect(actions).toContain("backfill.queue");
    expect(actions.filter((a) => a === "backfill.start").length).toBeGreaterThanOrEqual(2); // before and after the crash
    expect(actions).toContain("backfill.done");
  });

  it("does nothing more when the installation webhook is delivered again", async () => {
    const before = (await health()).queue.backfill.repositories;
    expect(
      (await scenario.deliver("installation", installationPayload(), { delivery: installDelivery })).status,
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await health()).queue.backfill.repositories).toEqual(before);
  });

  it("ends, saying why, when the installation can no longer read the repository", async () => {
    const queued = await scenario.cli(["backfill", "acme/gone", "--installation", String(INSTALLATION)]);
    expect(queued.status, queued.stderr).toBe(0);
    let skips: { subject: string; detail: { reason: string } }[] = [];
    for (let i = 0; i < 100 && skips.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      skips = JSON.parse(
        (await scenario.cli(["audit", "list", "--json", "--action", "backfill.skip"])).stdout,
      );
    }
    expect(skips).toEqual([
      expect.objectContaining({
        subject: "acme/gone",
        detail: expect.objectContaining({ reason: "the installation can no longer read it" }),
      }),
    ]);
    const { queue } = await health();
    expect(queue.backfill).toMatchObject({ failed: 0, repositories: { failed: 0, running: 0, queued: 0 } });
  });
});

describe("a push during a backfill", () => {
  it("is scanned and revoked first; the backfill started by hand reports only what is new", async () => {
    await commit("old/two", "origin/main", { "deploy.env": `PAT=${pats.later}\n` }, "Deploy settings");
    await git("push", "--quiet", "origin", "old/two");
    const held = scenario.github.holdNextFetch();
    const queued = await scenario.cli(["backfill", REPOSITORY]);
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/Queued the backfill of acme\/app \(job \d+\)/);
    const again = await scenario.cli(["backfill", REPOSITORY]);
    expect(again.stdout).toMatch(/already queued or running/);
    await held.reached;

    const update = await scenario.push("feature/live", { "live.env": `PAT=${pats.push}\n` }, "Live change");
    expect((await scenario.deliver("push", scenario.pushPayload("feature/live", update))).status).toBe(200);
    await scenario.until("the push's revocation", () => revocationsOf(ids.push).length > 0);
    expect(revocationsOf(ids.later)).toHaveLength(0);
    held.release();
    await scenario.until("the backfill's revocation", () => revocationsOf(ids.later).length > 0, 60_000);
    expect(revocationIndex(ids.push)).toBeLessThan(revocationIndex(ids.later));
    const second = await scenario.until("the second summary issue", () => historyIssues()[1]);
    // The push's token has its push issue, the earlier history its first summary: only the new leak is here.
    expect(second.title).toMatch(/^Leaked Azure DevOps .* in the repository's history$/);
    expect(second.body).toContain(`\`…${pats.later.slice(-4)}\``);
    expect(second.body).not.toContain(`\`…${pats.push.slice(-4)}\``);
    expect(second.body).not.toContain(`\`…${pats.branch.slice(-4)}\``);
    expect(revocationsOf(ids.push)).toHaveLength(1);
  });
});

describe("a pull request from a fork", () => {
  let base: string;
  let head: string;

  it("gets a comment with the redacted finding and its revocation", async () => {
    base = await git("rev-parse", "origin/main");
    head = await commit("patch-1", "origin/main", { "ci.yml": `token: ${pats.pull}\n` }, "Fix CI");
    // GitHub keeps a fork's pull request head in the base repository as refs/pull/N/head.
    await git("push", "--quiet", "origin", "HEAD:refs/pull/7/head");
    scenario.github.pulls.pullRequests.set(7, []);
    expect((await scenario.deliver("pull_request", pullRequestPayload("opened", 7, base, head))).status).toBe(
      200,
    );
    await scenario.until("the revocation", () => revocationsOf(ids.pull).length > 0);
    const comments = scenario.github.pulls.pullRequests.get(7) ?? [];
    const comment = await scenario.until("the comment, with the outcome", () =>
      comments[0]?.body.includes("✅") ? comments[0] : undefined,
    );
    expect(comments).toHaveLength(1);
    expect(comment.body).toContain(`\`…${pats.pull.slice(-4)}\``);
    expect(comment.body).toContain("ci.yml:1");
    // "revoked (confirmed)" once the confirming check has ended too.
    expect(comment.body).toMatch(/revoked( \(confirmed\))? at .* through the Azure DevOps Token Admin API/);
    expect(comment.body).not.toContain(pats.pull);
    expect(revocationsOf(ids.pull)).toHaveLength(1);
  });

  it("edits the same comment on synchronize", async () => {
    const edits = scenario.github.pulls.pullRequests.get(7)?.[0]?.edits ?? 0;
    head = await commit("patch-1", "patch-1", { "ci2.yml": `token: ${pats.pullAgain}\n` }, "More CI");
    await git("push", "--quiet", "--force", "origin", "HEAD:refs/pull/7/head");
    expect(
      (await scenario.deliver("pull_request", pullRequestPayload("synchronize", 7, base, head))).status,
    ).toBe(200);
    await scenario.until("the second revocation", () => revocationsOf(ids.pullAgain).length > 0);
    const comments = scenario.github.pulls.pullRequests.get(7) ?? [];
    const comment = await scenario.until("the edited comment", () =>
      comments[0] && comments[0].edits > edits && (comments[0].body.match(/✅/g) ?? []).length === 2
        ? comments[0]
        : undefined,
    );
    expect(comments).toHaveLength(1);
    expect(comment.body).toContain(`\`…${pats.pull.slice(-4)}\``);
    expect(comment.body).toContain(`\`…${pats.pullAgain.slice(-4)}\``);
    expect(comment.body).toContain(head.slice(0, 12));
    expect(revocationsOf(ids.pull)).toHaveLength(1);
    expect(revocationsOf(ids.pullAgain)).toHaveLength(1);
    // No issue for a pull request: its result is the comment.
    expect(scenario.github.issues.some((i) => i.body.includes(pats.pullAgain.slice(-4)))).toBe(false);
  });

  it("on a public repository posts nothing that points at the token, and still revokes it", async () => {
    const start = await git("rev-parse", "origin/main");
    const tip = await commit("patch-2", "origin/main", { "deploy.sh": `PAT=${pats.pullPublic}\n` }, "Deploy");
    await git("push", "--quiet", "origin", "HEAD:refs/pull/9/head");
    scenario.github.pulls.pullRequests.set(9, []);
    const payload = pullRequestPayload("opened", 9, start, tip);
    payload.repository.private = false;
    expect((await scenario.deliver("pull_request", payload)).status).toBe(200);
    await scenario.until("the revocation", () => revocationsOf(ids.pullPublic).length > 0);
    const audit = await scenario.cli(["audit", "list", "--json", "--action", "report.withheld"]);
    expect(audit.status, audit.stderr).toBe(0);
    const withheld = JSON.parse(audit.stdout) as { detail: { pullRequest?: number } }[];
    expect(withheld.some((e) => e.detail.pullRequest === 9)).toBe(true);
    expect(scenario.github.pulls.pullRequests.get(9)).toEqual([]);
    const sent = scenario.github.requests.filter((r) => r.method !== "GET").map((r) => r.body);
    expect(sent.some((body) => body.includes(pats.pullPublic.slice(-4)) || body.includes("deploy.sh"))).toBe(
      false,
    );
    expect(revocationsOf(ids.pullPublic)).toHaveLength(1);
  });

  it("refuses a malformed pull_request payload with 400", async () => {
    const bad = pullRequestPayload("opened", 8, "not-a-sha", "0".repeat(40));
    expect((await scenario.deliver("pull_request", bad)).status).toBe(400);
  });
});

describe("the installation's REST budget", () => {
  it("is left to live work: a backfill waits for the hour's reset when few calls are left", async () => {
    scenario.github.pulls.rateLimitRemaining = 10;
    const fetches = scenario.github.gitRequests.length;
    // By installation: the app lists the installation's repositories, then backfills each.
    const queued = await scenario.cli(["backfill", "--installation", String(INSTALLATION)]);
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stdout).toMatch(/Queued the backfill of installation 4242/);
    await scenario.until("the wait", () =>
      /10 REST calls left this hour, kept for live work; the backfill waits for the reset/.test(
        scenario.output(),
      ),
    );
    const { queue } = await health();
    // The listing is done; the repository's job waits, its attempt not spent.
    expect(queue.backfill).toMatchObject({ pending: 1, running: 0, failed: 0, repositories: { queued: 1 } });
    expect(scenario.github.requests.some((r) => r.path === "/api/v3/installation/repositories")).toBe(true);
    expect(scenario.github.gitRequests.length).toBe(fetches);
    scenario.github.pulls.rateLimitRemaining = undefined;
  });
});

describe("secrets stay in the process", () => {
  it("appear in no log line, no database file, no issue and no comment", () => {
    const secrets = [...Object.values(pats), scenario.github.installationToken];
    expectNotInText([scenario.output()], secrets);
    expectNotInFiles(databaseFiles(join(scenario.dir, "leakwarden.db")), Object.values(pats));
    expectNotInText(
      [
        ...scenario.github.issues.flatMap((i) => [i.title, i.body, ...i.comments]),
        ...[...scenario.github.pulls.pullRequests.values()].flat().map((c) => c.body),
      ],
      Object.values(pats),
    );
  });
});
