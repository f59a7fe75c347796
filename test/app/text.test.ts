// The parts behind text on GitHub and secret scanning alerts: the webhook mapping, scanning a text, redacting it,
// and an alert's secret on a real SQLite store (sealed for a by-value revocation, never stored in plaintext).
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WritePacer } from "../../src/app/pacing.js";
import { defaultRepoSettings } from "../../src/app/repo-settings.js";
import { textPayloadProblem, textScanFor } from "../../src/app/text-events.js";
import { acceptTextDelivery, TEXT_SCAN_KIND, type TextScanJob } from "../../src/app/text-jobs.js";
import { REDACTION_NOTE, type RedactReport, redactText, TextRedactor } from "../../src/app/text-redact.js";
import { scanTextParts, TextScanProcessor } from "../../src/app/text-scan.js";
import { Registry } from "../../src/registry/registry.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { REVOKE_KIND } from "../../src/revoke/queue.js";
import { loadRules } from "../../src/scan/rules.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { createEngine } from "../../src/scan/settings.js";
import { openStore, type Store } from "../../src/store/index.js";
import type { JobRecord } from "../../src/store/jobs.js";
import { tempDir } from "../support/cli.js";
import { databaseFiles, expectNotInFiles } from "../support/plaintext.js";
import { TestOctokit } from "../support/probot.js";
import { tokens } from "../support/tokens.js";

const API = "https://api.github.com";
const t = tokens(13_13);
const engine = createEngine({ ruleDirs: [], disabledRules: [], allow: [] });
const repository = {
  name: "app",
  full_name: "acme/app",
  html_url: "https://github.com/acme/app",
  owner: { login: "acme" },
};

describe("text webhooks", () => {
  const comment = {
    id: 11,
    html_url: "https://github.com/acme/app/issues/3#issuecomment-11",
    body: "anything",
    user: { login: "writer" },
    updated_at: "2026-11-30T10:00:00Z",
  };
  const payload = (action: string, fields: Record<string, unknown>) => ({
    action,
    ...fields,
    repository,
    sender: { login: "editor" },
    installation: { id: 7 },
  });

  it("name the text and its version, never its body; an edit is the editor's", () => {
    const scan = textScanFor("issue_comment", payload("edited", { comment }), "delivery-1");
    expect(scan).toEqual({
      type: "text",
      installation: 7,
      repository: {
        owner: "acme",
        name: "app",
        fullName: "acme/app",
        htmlUrl: "https://github.com/acme/app",
      },
      text: { kind: "issue_comment", owner: "acme", repo: "app", id: 11, url: comment.html_url },
      action: "edited",
      author: "editor",
      version: "2026-11-30T10:00:00Z",
    });
    expect(JSON.stringify(scan)).not.toContain("anything");
    expect(textScanFor("issue_comment", payload("created", { comment }), "d")).toMatchObject({
      author: "writer",
    });
    expect(
      textScanFor("discussion", payload("created", { discussion: { ...comment, node_id: "D_kw1" } }), "d"),
    ).toMatchObject({ text: { kind: "discussion", id: "D_kw1" } });
  });

  it("ignore actions leakwarden does not scan, and refuse malformed references", () => {
    expect(textScanFor("issue_comment", payload("deleted", { comment }), "d")).toBeNull();
    expect(textScanFor("commit_comment", payload("edited", { comment }), "d")).toBeNull();
    expect(textPayloadProblem("issue_comment", payload("deleted", {}))).toBeNull();
    expect(
      textPayloadProblem("issue_comment", payload("created", { comment: { ...comment, id: "1/../2" } })),
    ).toBe("comment.id");
    expect(textPayloadProblem("release", payload("published", { release: { id: 5 } }))).toBe(
      "release.html_url",
    );
    expect(textPayloadProblem("secret_scanning_alert", payload("created", { alert: { number: -1 } }))).toBe(
      "alert.number",
    );
    expect(textPayloadProblem("issues", { ...payload("opened", { issue: comment }), repository: {} })).toBe(
      "issue.number",
    );
  });
});

describe("scanning and redacting a text", () => {
  it("finds a token in the title on line 0 and in the body by its line, located at the text's page", () => {
    const pat = t.adoPat();
    const findings = scanTextParts(
      engine,
      { title: `token ${pat}`, body: `first line\nAZURE_DEVOPS_EXT_PAT=${pat}` },
      "https://github.com/acme/app/issues/3",
      "writer",
    );
    expect(findings.map((f) => [f.line, f.file, f.author])).toEqual([
      [0, "https://github.com/acme/app/issues/3", "writer"],
      [2, "https://github.com/acme/app/issues/3", "writer"],
    ]);
    expect(findings[0]?.fingerprint).toBe(findings[1]?.fingerprint);
  });

  it("replaces each occurrence of the given tokens with its preview and leaves other text alone", () => {
    const [pat, other] = [t.adoPat(), t.githubPat()];
    const text = `use ${pat}\nor "${pat}" and ${other}\nunicode ✓ stays`;
    const { text: out, replaced } = redactText(engine, text, new Set([secretHash(pat)]));
    expect(replaced).toBe(1);
    expect(out).toBe(`use …${pat.slice(-4)}\nor "…${pat.slice(-4)}" and ${other}\nunicode ✓ stays`);
    expect(redactText(engine, "nothing here", new Set([secretHash(pat)]))).toEqual({
      text: "nothing here",
      replaced: 0,
    });
    expect(REDACTION_NOTE).toMatch(/^_leakwarden replaced a leaked credential/);
  });

  it("replaces an encoded token (Basic auth) by its whole encoded span", () => {
    const pat = t.adoPat();
    const header = Buffer.from(`:${pat}`).toString("base64");
    const { text } = redactText(
      engine,
      `curl -H 'Authorization: Basic ${header}' https://dev.azure.com/contoso`,
      new Set([secretHash(pat)]),
    );
    expect(text).not.toContain(header);
    expect(text).toContain(`…${pat.slice(-4)}`);
  });
});

describe("a secret scanning alert for a registered GitHub token (revoked by value)", () => {
  const dir = tempDir();
  const dbPath = join(dir.path, "app.db");
  let store: Store;
  let processor: TextScanProcessor;
  const token = t.githubPat();
  const unknown = t.githubPat();
  let queued = 0;
  const job = async (number: number) => {
    await acceptTextDelivery(store, `delivery-${number}`, "secret_scanning_alert", {
      type: "secret_scanning_alert",
      installation: 7,
      repository: {
        owner: "acme",
        name: "app",
        fullName: "acme/app",
        htmlUrl: "https://github.com/acme/app",
      },
      alert: { number, url: "", secretType: "github_personal_access_token" },
    });
    return (await store.jobs.list<TextScanJob["payload"]>({ kind: TEXT_SCAN_KIND })).at(-1) as TextScanJob;
  };
  const alertReply = (number: number, secret: string) =>
    nock(API)
      .get("/repos/acme/app/contents/.github%2Fleakwarden.yml")
      .reply(404)
      .get("/repos/acme/.github/contents/.github%2Fleakwarden.yml")
      .reply(404)
      .get(`/repos/acme/app/secret-scanning/alerts/${number}`)
      .reply(200, {
        number,
        secret_type: "github_personal_access_token",
        secret_type_display_name: "GitHub Personal Access Token",
        secret,
        html_url: `https://github.com/acme/app/security/secret-scanning/${number}`,
      });

  beforeAll(async () => {
    store = await openStore({ path: dbPath, env: {} });
    processor = new TextScanProcessor({
      store,
      octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
      revokers: createRevokers({ LEAKWARDEN_GITHUB_API_URL: "https://github-revoke.example.test" }, {}),
      rules: loadRules(),
      revocationsQueued: () => queued++,
      reportsQueued: () => {},
      log: () => {},
    });
    nock.disableNetConnect();
    await new Registry(store).add(new Secret(token), { name: "ci" });
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await store?.close();
    dir.remove();
  });

  it("queues the revocation with the value sealed, reports it, and stores no plaintext", async () => {
    expect(defaultRepoSettings().revoke).toBe("registered");
    const scope = alertReply(1, token);
    const result = await processor.process(await job(1));
    expect(scope.isDone()).toBe(true);
    expect(result).toMatchObject({ findings: 1, reported: 1 });
    expect(queued).toBe(1);
    const revocation = (await store.jobs.list({ kind: REVOKE_KIND }))[0];
    expect(revocation?.queue).toBe("github");
    expect(revocation?.sealed).not.toBeNull();
    expect(store.box.open(revocation?.sealed as Buffer, revocation?.key as string).reveal()).toBe(token);
    const finding = (await store.findings.list({ secretHash: secretHash(token) }))[0];
    expect(finding).toMatchObject({
      ruleId: "github-pat",
      file: "https://github.com/acme/app/security/secret-scanning/1",
    });
    expectNotInFiles(databaseFiles(dbPath), [token]);
  });

  it("records an unregistered token, revokes nothing and opens no issue under the default policy", async () => {
    alertReply(2, unknown);
    const result = await processor.process(await job(2));
    expect(result).toMatchObject({ findings: 1, reported: 0 });
    expect(await store.jobs.list({ kind: REVOKE_KIND })).toHaveLength(1);
    expectNotInFiles(databaseFiles(dbPath), [token, unknown]);
  });
});

describe("redacting a release note without contents: write", () => {
  it("records GitHub's refusal and what permission it needs, and does not retry", async () => {
    const dir = tempDir();
    const store = await openStore({ path: join(dir.path, "app.db"), env: {} });
    const pat = t.adoPat();
    const logs: string[] = [];
    const redactor = new TextRedactor({
      store,
      octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
      pacer: new WritePacer(0),
      engine,
      log: (line) => logs.push(line),
    });
    nock.disableNetConnect();
    const scope = nock(API)
      .get("/repos/acme/app/releases/5")
      .reply(200, { name: "v1", body: `feed token ${pat}` })
      .patch("/repos/acme/app/releases/5", (body: { body: string }) => !body.body.includes(pat))
      .reply(403, { message: "Resource not accessible by integration" });
    const url = "https://github.com/acme/app/releases/tag/v1";
    const job = {
      id: 1,
      queue: "installation:7",
      payload: {
        type: "redact",
        installation: 7,
        repository: "acme/app",
        text: { kind: "release", owner: "acme", repo: "app", id: 5, url },
        secretHashes: [secretHash(pat)],
      },
    } as JobRecord<RedactReport>;
    await redactor.process(job);
    expect(scope.isDone()).toBe(true);
    expect(await store.audit.list({ action: "text.redact-refused" })).toMatchObject([
      { subject: url, detail: { kind: "release", reason: expect.stringMatching(/contents: write/) } },
    ]);
    expect(logs.join("\n")).toMatch(/could not redact the release .*contents: write/);
    nock.cleanAll();
    nock.enableNetConnect();
    await store.close();
    dir.remove();
  });
});

describe("text.redact and triage", () => {
  it("queues a redaction of a reported token, but none once it is resolved as a false positive", async () => {
    const dir = tempDir();
    const store = await openStore({ path: join(dir.path, "app.db"), env: {} });
    const processor = new TextScanProcessor({
      store,
      octokitFor: async () => new TestOctokit({ auth: "ghs_installation_token_for_tests" }),
      revokers: createRevokers({}, {}),
      rules: loadRules(),
      revocationsQueued: () => {},
      reportsQueued: () => {},
      log: () => {},
    });
    const pat = t.adoPat();
    const url = "https://github.com/acme/app/issues/3#issuecomment-12";
    const scanVersion = async (version: string) => {
      nock(API)
        .get("/repos/acme/app/contents/.github%2Fleakwarden.yml")
        .reply(200, "text:\n  redact: true\n", { "content-type": "text/plain; charset=utf-8" })
        .get("/repos/acme/app/issues/comments/12")
        .reply(200, { body: `AZURE_DEVOPS_EXT_PAT=${pat}` });
      await acceptTextDelivery(store, `delivery-${version}`, "issue_comment", {
        type: "text",
        installation: 7,
        repository: {
          owner: "acme",
          name: "app",
          fullName: "acme/app",
          htmlUrl: "https://github.com/acme/app",
        },
        text: { kind: "issue_comment", owner: "acme", repo: "app", id: 12, url },
        action: "edited",
        author: "dana-dev",
        version,
      });
      const job = (await store.jobs.list<TextScanJob["payload"]>({ kind: TEXT_SCAN_KIND })).at(
        -1,
      ) as TextScanJob;
      return processor.process(job);
    };
    const redactions = async () =>
      (await store.jobs.list<RedactReport>({ kind: "report" })).filter((j) => j.payload.type === "redact");
    nock.disableNetConnect();
    expect(await scanVersion("v1")).toEqual({ findings: 1, reported: 1 });
    expect((await redactions()).map((j) => j.payload.secretHashes)).toEqual([[secretHash(pat)]]);
    const finding = (await store.findings.list({ secretHash: secretHash(pat) }))[0];
    await store.findings.resolve(finding?.id as number, "false-positive", "a sample in the docs");
    expect(await scanVersion("v2")).toEqual({ findings: 1, reported: 0 });
    expect(await redactions()).toHaveLength(1);
    expect(nock.isDone()).toBe(true);
    nock.enableNetConnect();
    await store.close();
    dir.remove();
  });
});
