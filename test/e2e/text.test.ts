// Text on GitHub and GitHub's own secret scanning, end to end: `leakwarden serve` as a child process receiving
// signed webhooks, the GitHub stand-in serving the texts and the alert, the Azure DevOps stand-in revoking.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDACTION_NOTE } from "../../src/app/text-redact.js";
import { INSTALLATION, REPOSITORY, type Scenario, startScenario } from "../../src/demo/scenario.js";
import { databaseFiles, expectNotInFiles, expectNotInText } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";

const t = tokens(13_2026);
const pats = {
  comment: t.adoPat(),
  issue: t.adoPat(),
  discussion: t.adoPat(),
  release: t.adoPat(),
  alert: t.adoPat(),
  /** In an alert, not registered. */
  unknown: t.adoPat(),
};
const ids = Object.fromEntries(Object.keys(pats).map((name) => [name, randomUUID()])) as Record<
  keyof typeof pats,
  string
>;
let scenario: Scenario;
const WEB = `https://github.com/${REPOSITORY}`;

async function register(pat: string, authorizationId: string) {
  const result = await scenario.cli(
    [
      "registry",
      "add",
      "--provider",
      "azure-devops",
      "--org",
      "contoso",
      "--authorization-id",
      authorizationId,
      "--name",
      "deploy",
    ],
    `${pat}\n`,
  );
  expect(result.status, result.stderr).toBe(0);
}

const revocationsOf = (id: string) =>
  scenario.ado.requests.filter(
    (r) => r.path === "/contoso/_apis/tokenadmin/revocations" && r.body.includes(id),
  );

/** The envelope every event shares: the repository, the installation, who sent it. */
function event(action: string, fields: Record<string, unknown>, sender = "dana-dev") {
  return {
    action,
    ...fields,
    repository: {
      id: 1,
      node_id: "R_1",
      name: "app",
      full_name: REPOSITORY,
      private: true,
      owner: { login: "acme", id: 2 },
      html_url: WEB,
    },
    sender: { login: sender, id: 3, type: "User" },
    installation: { id: INSTALLATION, node_id: "I_1" },
  };
}

/** A comment object as the issue_comment webhook carries it; its body as given (GitHub sends it). */
function comment(id: number, body: string, updatedAt: string) {
  return {
    id,
    node_id: `IC_${id}`,
    body,
    html_url: `${WEB}/issues/9#issuecomment-${id}`,
    user: { login: "dana-dev", id: 3 },
    created_at: "2026-11-30T10:00:00Z",
    updated_at: updatedAt,
  };
}

async function deliver(name: string, payload: unknown) {
  const answer = await scenario.deliver(name, payload);
  expect(answer.status, answer.text).toBe(200);
  return answer;
}

const issuesAbout = (url: string) => scenario.github.issues.filter((i) => i.body.includes(url));

beforeAll(async () => {
  scenario = await startScenario({ env: { LOG_LEVEL: "trace" } });
  for (const name of Object.keys(pats) as (keyof typeof pats)[])
    if (name !== "unknown") await register(pats[name], ids[name]);
}, 60_000);
afterAll(async () => scenario?.stop());

describe("a comment edited to hold a registered Azure DevOps PAT, in a repository that asks for redaction", () => {
  const path = "/repos/acme/app/issues/comments/501";
  const url = `${WEB}/issues/9#issuecomment-501`;

  it("scans a new clean comment and finds nothing", async () => {
    scenario.github.settings.set(REPOSITORY, "text:\n  redact: true\n");
    scenario.github.texts.set(path, { body: "Deploying today.", edits: [] });
    await deliver(
      "issue_comment",
      event("created", { comment: comment(501, "Deploying today.", "2026-11-30T10:00:00Z") }),
    );
    await scenario.until("the scan", () =>
      /text scan job \d+ .*issue_comment:501:.*: 0 findings/.test(scenario.output()),
    );
    expect(issuesAbout(url)).toHaveLength(0);
  });

  it("revokes the PAT, reports it once on a breach issue, and edits the comment to its preview", async () => {
    const body = `Deploying today.\nIf the pipeline fails, use this: ${pats.comment}\nthanks`;
    scenario.github.texts.set(path, { body, edits: [] });
    const edited = event("edited", {
      comment: comment(501, body, "2026-11-30T10:05:00Z"),
      changes: { body: { from: "Deploying today." } },
    });
    await deliver("issue_comment", edited);
    await scenario.until("the revocation", () => revocationsOf(ids.comment).length > 0);
    expect(JSON.parse(revocationsOf(ids.comment)[0]?.body ?? "")).toEqual([{ authorizationId: ids.comment }]);
    const issue = await scenario.until("the breach issue", () => issuesAbout(url)[0]);
    expect(issue.title).toMatch(/leaked in a comment$/);
    expect(issue.body).toContain(`[comment, line 2](${url})`);
    expect(issue.body).toContain(`\`…${pats.comment.slice(-4)}\``);
    expect(issue.body).toContain("@dana-dev");
    const text = await scenario.until("the redaction", () => {
      const got = scenario.github.texts.get(path);
      return got && got.edits.length > 0 && got;
    });
    expect(text.body).toBe(
      `Deploying today.\nIf the pipeline fails, use this: …${pats.comment.slice(-4)}\nthanks\n\n${REDACTION_NOTE}`,
    );
    // The same delivery again, and a new delivery of the same edit: nothing more.
    await deliver("issue_comment", edited);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(issuesAbout(url)).toHaveLength(1);
    expect(revocationsOf(ids.comment)).toHaveLength(1);
  });

  it("does not report the same token for the same comment again when it is edited back in", async () => {
    const body = `Reverted the bot's edit: ${pats.comment}`;
    scenario.github.texts.set(path, { body, edits: [] });
    await deliver(
      "issue_comment",
      event("edited", { comment: comment(501, body, "2026-11-30T10:09:00Z") }, "mallory-dev"),
    );
    // Still on display, so it is redacted again; but no second issue, no second revocation.
    const text = await scenario.until("the second redaction", () => {
      const got = scenario.github.texts.get(path);
      return got && got.edits.length > 0 && got;
    });
    expect(text.body).toBe(`Reverted the bot's edit: …${pats.comment.slice(-4)}\n\n${REDACTION_NOTE}`);
    await scenario.until("the scan", () =>
      /text scan job \d+ .*issue_comment:501:2026-11-30T10:09:00Z\): 1 findings, 0 reported/.test(
        scenario.output(),
      ),
    );
    expect(issuesAbout(url)).toHaveLength(1);
    expect(revocationsOf(ids.comment)).toHaveLength(1);
  });
});

describe("other text on GitHub, in a repository that does not ask for redaction", () => {
  beforeAll(() => {
    scenario.github.settings.set(REPOSITORY, "issues:\n  labels: [leak]\n");
  });

  it("finds a registered PAT in an issue's body", async () => {
    const url = `${WEB}/issues/120`;
    const body = `Steps to reproduce:\n\n1. az devops login --token ${pats.issue}\n`;
    scenario.github.texts.set("/repos/acme/app/issues/120", { title: "Login fails", body, edits: [] });
    await deliver(
      "issues",
      event("opened", {
        issue: {
          number: 120,
          title: "Login fails",
          body,
          html_url: url,
          user: { login: "erin-ops", id: 5 },
          updated_at: "2026-11-30T11:00:00Z",
        },
      }),
    );
    const issue = await scenario.until("the breach issue", () => issuesAbout(url)[0]);
    expect(issue.title).toMatch(/leaked in an issue$/);
    expect(issue.body).toContain(`[issue, line 3](${url})`);
    expect(issue.labels).toContain("leak");
    await scenario.until("the revocation", () => revocationsOf(ids.issue).length > 0);
    expect(scenario.github.texts.get("/repos/acme/app/issues/120")?.edits).toEqual([]);
  });

  it("finds a registered PAT in a discussion comment (GraphQL)", async () => {
    const nodeId = "DC_kwDOAbc123";
    const url = `${WEB}/discussions/4#discussioncomment-77`;
    scenario.github.texts.set(nodeId, { body: `try AZURE_DEVOPS_EXT_PAT=${pats.discussion}`, edits: [] });
    await deliver(
      "discussion_comment",
      event("created", {
        comment: {
          id: 77,
          node_id: nodeId,
          body: "(GitHub sends the body; leakwarden reads it again)",
          html_url: url,
          user: { login: "erin-ops", id: 5 },
          updated_at: "2026-11-30T11:10:00Z",
        },
        discussion: { number: 4, node_id: "D_kwDOAbc", html_url: `${WEB}/discussions/4` },
      }),
    );
    const issue = await scenario.until("the breach issue", () => issuesAbout(url)[0]);
    expect(issue.title).toMatch(/leaked in a discussion comment$/);
    await scenario.until("the revocation", () => revocationsOf(ids.discussion).length > 0);
    expect(scenario.github.requests.some((r) => r.path === "/api/graphql" && r.body.includes(nodeId))).toBe(
      true,
    );
  });

  it("finds a registered PAT in a release note", async () => {
    const url = `${WEB}/releases/tag/v1.2.0`;
    scenario.github.texts.set("/repos/acme/app/releases/3001", {
      title: "v1.2.0",
      body: `## Changes\n- faster deploys\n\nFeed: https://build:${pats.release}@pkgs.dev.azure.com/contoso/_packaging/feed/nuget/v3/index.json\n`,
      edits: [],
    });
    await deliver(
      "release",
      event("published", {
        release: {
          id: 3001,
          tag_name: "v1.2.0",
          name: "v1.2.0",
          html_url: url,
          author: { login: "erin-ops", id: 5 },
          published_at: "2026-11-30T11:20:00Z",
        },
      }),
    );
    const issue = await scenario.until("the breach issue", () => issuesAbout(url)[0]);
    expect(issue.title).toMatch(/leaked in a release note$/);
    expect(issue.body).toContain(`[release note, line 4](${url})`);
    await scenario.until("the revocation", () => revocationsOf(ids.release).length > 0);
  });

  it("answers 400 to a signed text event with a malformed reference", async () => {
    const answer = await scenario.deliver(
      "issue_comment",
      event("created", { comment: { ...comment(502, "x", "2026-11-30T12:00:00Z"), id: "../../x" } }),
    );
    expect(answer).toMatchObject({ status: 400, text: "bad request\n" });
  });
});

describe("a GitHub secret scanning alert for a registered Azure DevOps PAT", () => {
  it("fetches the alert, revokes the PAT through the Token Admin API, and reports it on a breach issue", async () => {
    const url = `${WEB}/security/secret-scanning/7`;
    scenario.github.secretAlerts.set(`${REPOSITORY}#7`, {
      number: 7,
      state: "open",
      secret_type: "azure_devops_personal_access_token",
      secret_type_display_name: "Azure DevOps Personal Access Token",
      secret: pats.alert,
      html_url: url,
    });
    await deliver(
      "secret_scanning_alert",
      event("created", {
        alert: {
          number: 7,
          state: "open",
          secret_type: "azure_devops_personal_access_token",
          secret_type_display_name: "Azure DevOps Personal Access Token",
          html_url: url,
        },
      }),
    );
    await scenario.until("the revocation", () => revocationsOf(ids.alert).length > 0);
    expect(JSON.parse(revocationsOf(ids.alert)[0]?.body ?? "")).toEqual([{ authorizationId: ids.alert }]);
    const issue = await scenario.until("the breach issue", () => issuesAbout(url)[0]);
    expect(issue.title).toMatch(/GitHub secret scanning alert #7$/);
    expect(issue.body).toContain(`[secret scanning alert #7](${url})`);
    // The outcome is in the issue: in its body when the revocation was done first, else in a comment.
    const outcome = await scenario.until("the outcome", () => {
      const all = [issue.body, ...issue.comments].join("\n");
      return /revoked at [^\n]* through the Azure DevOps Token Admin API/.test(all) && all;
    });
    expect(outcome).toContain(`\`…${pats.alert.slice(-4)}\``);
    expect(
      scenario.github.requests.filter((r) => r.path === "/api/v3/repos/acme/app/secret-scanning/alerts/7"),
    ).toHaveLength(1);
  });

  it("leaves an alert for a token it does not know to GitHub: no issue, no revocation", async () => {
    const url = `${WEB}/security/secret-scanning/8`;
    scenario.github.secretAlerts.set(`${REPOSITORY}#8`, {
      number: 8,
      secret_type: "azure_devops_personal_access_token",
      secret: pats.unknown,
      html_url: url,
    });
    const revocations = () => scenario.ado.requests.filter((r) => r.path.includes("/tokenadmin/")).length;
    const before = revocations();
    await deliver("secret_scanning_alert", event("created", { alert: { number: 8, html_url: url } }));
    await scenario.until("the scan", () =>
      /secret-scanning-alert:8\): 1 findings, 0 reported/.test(scenario.output()),
    );
    expect(issuesAbout(url)).toHaveLength(0);
    expect(revocations()).toBe(before);
  });
});

describe("the tokens' plaintext", () => {
  it("is in no database file, no log line, and no request sent to the GitHub stand-in", async () => {
    const all = Object.values(pats);
    expectNotInFiles(databaseFiles(scenario.env.LEAKWARDEN_DB as string), all);
    expectNotInText([scenario.output()], all);
    expect(scenario.github.requests.length).toBeGreaterThan(0);
    expectNotInText(
      scenario.github.requests.map((r) => `${r.method} ${r.path}?${r.query} ${r.body}`),
      all,
    );
    expectNotInText(
      scenario.github.issues.flatMap((i) => [i.title, i.body, ...i.comments]),
      all,
    );
    expectNotInText(
      scenario.alerts.requests.map((r) => r.body),
      all,
    );
  });
});
