// Routing without disclosure and triage that feeds back, end to end: `leakwarden serve` as a child process,
// signed webhooks, git over HTTP, and the GitHub and Azure DevOps stand-ins. Every request the GitHub
// stand-in received is searched for what must never reach a public repository.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StandInIssue } from "../../src/demo/github.js";
import { type Scenario, startScenario } from "../../src/demo/scenario.js";
import { fingerprint } from "../../src/scan/redact.js";
import { secretHash } from "../../src/scan/secret.js";
import { expectNotInText } from "../support/plaintext.js";
import { revocationsOf as adoRevocations, registerAdoPat } from "../support/scenario.js";
import { tokens } from "../support/tokens.js";

const t = tokens(20261130);
let scenario: Scenario;
const API = "/api/v3";

async function register(pat: string): Promise<string> {
  const authorizationId = randomUUID();
  await registerAdoPat(scenario, pat, authorizationId, [
    "--name",
    "release-bot",
    "--owner",
    "dana@example.com",
    "--scopes",
    "vso.code_write",
  ]);
  return authorizationId;
}

const revocationsOf = (id: string) => adoRevocations(scenario, id);

/** Every request the GitHub stand-in received about the public repository acme/app. */
const publicRequests = () =>
  scenario.github.requests.filter((r) => r.path.startsWith(`${API}/repos/acme/app`));

const issuesIn = (repository: string): StandInIssue[] =>
  scenario.github.issues.filter((i) => i.repository === repository);

async function audit(
  action: string,
): Promise<{ action: string; subject: string; detail: Record<string, unknown> }[]> {
  const result = await scenario.cli(["audit", "list", "--json", "--action", action]);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

async function pushPublic(branch: string, files: Record<string, string>) {
  const update = await scenario.push(branch, files, `Add ${branch}`);
  const delivered = await scenario.deliver(
    "push",
    scenario.pushPayload(branch, update, { visibility: "public" }),
  );
  expect(delivered.status).toBe(200);
  return update;
}

beforeAll(async () => {
  // No LEAKWARDEN_SECURITY_REPO: the organisation's own settings name the security repository later.
  scenario = await startScenario({ env: { LEAKWARDEN_SECURITY_REPO: undefined } });
  scenario.github.repositories.set("acme/app", { visibility: "public" });
}, 60_000);
afterAll(async () => scenario?.stop());

describe("a public repository without a security repository", () => {
  const pat = t.adoPat();

  it("opens no issue anywhere, audits why and what to set, and still revokes the token", async () => {
    const id = await register(pat);
    await pushPublic("leak/one", { "publish.sh": `export AZURE_DEVOPS_EXT_PAT=${pat}\n` });
    await scenario.until("the revocation", () => revocationsOf(id).length > 0);
    await scenario.until("the report stage's refusal", () => scenario.output().includes("was NOT reported"));
    expect(scenario.github.issues).toHaveLength(0);
    expect(
      scenario.github.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`${API}/repos/`)),
    ).toEqual([]);
    const [withheld] = await audit("report.withheld");
    expect(withheld?.subject).toBe("repository:acme/app");
    expect(String(withheld?.detail.reason)).toMatch(
      /acme\/app is public.*set issues\.repository in acme\/\.github's \.github\/leakwarden\.yml, or LEAKWARDEN_SECURITY_REPO/,
    );
    expectNotInText([scenario.output(), JSON.stringify(withheld)], [pat]);
  });
});

describe("a public repository whose organisation names a private security repository", () => {
  const pat = t.adoPat();
  let id = "";
  let issue: StandInIssue;

  it("opens the issue in the security repository, and the public repository hears nothing about the leak", async () => {
    scenario.github.repositories.set("acme/security", { visibility: "private" });
    scenario.github.settings.set(
      "acme/.github",
      "issues:\n  repository: acme/security\n  public_notice: true\n",
    );
    id = await register(pat);
    await pushPublic("leak/two", { "release.sh": `export AZURE_DEVOPS_EXT_PAT=${pat}\n` });
    issue = await scenario.until("the issue", () => issuesIn("acme/security")[0]);
    await scenario.until("the revocation", () => revocationsOf(id).length > 0);
    expect(issue.title).toBe("Leaked Azure DevOps PAT in push to leak/two");
    expect(issue.body).toContain("release.sh");
    expect(issue.body).toContain(`\`…${pat.slice(-4)}\``);
    expect(issue.body).toMatch(
      /Registry: \*\*release-bot\*\* \(owner dana@\u200bexample\.com; organisation contoso; scopes `vso\.code_write`\)/,
    );
    const reference = ["$", "{AZURE_DEVOPS_EXT_PAT}"].join("");
    expect(issue.body).toContain(`export AZURE_DEVOPS_EXT_PAT="${reference}"`);
    // It checked the security repository is private before writing there.
    expect(
      scenario.github.requests.some((r) => r.method === "GET" && r.path === `${API}/repos/acme/security`),
    ).toBe(true);
  });

  it("shows the status revoked with its exposure window, then posts a short public notice without a location", async () => {
    // The revocation (and its confirming check) usually end before the issue opens, which waits for live
    // checks: then the issue opens with the outcome; otherwise its row is edited in place
    // (test/app/processor.test.ts edits a pending one).
    await scenario.until("the revoked status", () =>
      /<!--lw:cell \w{12}-->revoked<!--\/lw:cell-->/.test(issue.body),
    );
    expect(issue.body).toMatch(/Exposed from .* \(committed\) to .* \(revoked\)/);
    const [notice] = await scenario.until(
      "the public notice",
      () => issuesIn("acme/app").length > 0 && issuesIn("acme/app"),
    );
    expect(notice?.title).toBe("A leaked credential was revoked");
    expect(issuesIn("acme/app")).toHaveLength(1);
    // Nothing the stand-in received about acme/app names the file, the token, its preview or its fingerprint.
    const fp = fingerprint("azure-devops-pat", secretHash(pat), "release.sh");
    const said = publicRequests().map((r) => `${r.method} ${r.path}?${r.query} ${r.body}`);
    expect(said.length).toBeGreaterThan(0);
    for (const text of said)
      for (const word of ["release.sh", "publish.sh", `…${pat.slice(-4)}`, pat.slice(-4), fp, "leak/two"])
        expect(text, text).not.toContain(word);
    expect(
      publicRequests()
        .filter((r) => r.method !== "GET")
        .map((r) => `${r.method} ${r.path}`),
    ).toEqual([`POST ${API}/repos/acme/app/issues`]);
    expectNotInText([...said, issue.body, ...issue.comments, scenario.output()], [pat]);
  });

  it("refuses, loudly, a security repository that is public, and writes nothing", async () => {
    const other = t.adoPat();
    const otherId = await register(other);
    scenario.github.repositories.set("acme/open-security", { visibility: "public" });
    scenario.github.settings.set("acme/.github", "issues:\n  repository: acme/open-security\n");
    const before = scenario.github.issues.length;
    await pushPublic("leak/three", { "ship.sh": `export AZURE_DEVOPS_EXT_PAT=${other}\n` });
    await scenario.until("the revocation", () => revocationsOf(otherId).length > 0);
    await scenario.until("the refusal in the log", () =>
      scenario.output().includes("acme/open-security is public"),
    );
    const [entry] = await audit("report.refused");
    expect(String(entry?.detail.reason)).toMatch(/acme\/open-security is public: leakwarden refuses/);
    expect(scenario.github.issues).toHaveLength(before);
    expect(scenario.github.requests.some((r) => r.method !== "GET" && r.path.includes("open-security"))).toBe(
      false,
    );
  });
});

describe("triage feeds back", () => {
  it("a finding resolved as a false positive is not reported on the next push; nor is one in .leakwardenignore", async () => {
    // A private repository again, reporting in place.
    scenario.github.repositories.set("acme/app", { visibility: "private" });
    scenario.github.settings.delete("acme/.github");
    const fake = t.githubPat();
    const first = await scenario.push("fixture/one", { "fixture.txt": `token=${fake}\n` }, "Add a fixture");
    await scenario.deliver("push", scenario.pushPayload("fixture/one", first));
    const issue = await scenario.until("the issue", () =>
      issuesIn("acme/app").find((i) => i.body.includes("fixture.txt")),
    );
    const id = /\| \[#(\d+)\]\(http[^)]*\/console\/findings\/\d+\) \|/.exec(issue.body)?.[1];
    expect(id).toBeDefined();
    expect(issue.body).toContain(`leakwarden findings resolve ${id} --as false-positive`);
    const resolved = await scenario.cli([
      "findings",
      "resolve",
      String(id),
      "--as",
      "false-positive",
      "--note",
      "fixture",
    ]);
    expect(resolved.status, resolved.stderr).toBe(0);

    const issuesBefore = scenario.github.issues.length;
    const again = await scenario.push(
      "fixture/two",
      { "fixture.txt": `token=${fake}\n`, "b.txt": "x\n" },
      "Again",
    );
    await scenario.deliver("push", scenario.pushPayload("fixture/two", again));
    await scenario.until("the scan of the second push", () =>
      /refs\/heads\/fixture\/two:\w+\): 0 findings/.test(scenario.output()),
    );

    // A fingerprint committed in .leakwardenignore, with the code, does the same.
    const other = t.githubPat();
    const listed = fingerprint("github-pat", secretHash(other), "notes.txt");
    const third = await scenario.push(
      "fixture/three",
      { "notes.txt": `token=${other}\n`, ".leakwardenignore": `# reviewed: a test value\n${listed}\n` },
      "Notes",
    );
    await scenario.deliver("push", scenario.pushPayload("fixture/three", third));
    await scenario.until("the scan of the third push", () =>
      /refs\/heads\/fixture\/three:\w+\): 0 findings/.test(scenario.output()),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(scenario.github.issues).toHaveLength(issuesBefore);
    expect(scenario.output()).toMatch(/acme\/app: 1 finding left out/);
  });
});
