// Where a breach is reported: the choice (public, private, central, none), the check that the security
// repository is private before anything is written there, and the organisation's settings that name it.
import { generateKeyPairSync } from "node:crypto";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Breach } from "../../src/app/breach-issue.js";
import { serveConfigFrom } from "../../src/app/config.js";
import {
  defaultRepoSettings,
  parseRepoSettings,
  readOrgSettings,
  withOrgSettings,
} from "../../src/app/repo-settings.js";
import { chooseRoute, securityRepositoryProblem } from "../../src/app/report-routing.js";
import { TestOctokit } from "../support/probot.js";

const API = "https://api.github.com";
beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

function breachOf(visibility?: "public" | "private" | "internal"): Breach {
  return {
    repository: {
      fullName: "acme/app",
      htmlUrl: "https://github.com/acme/app",
      ...(visibility ? { visibility } : {}),
    },
    source: {
      kind: "push",
      ref: "refs/heads/main",
      before: "b".repeat(40),
      after: "c".repeat(40),
      pusher: "d",
    },
    findings: [],
  };
}

function settingsWith(issues: Partial<ReturnType<typeof defaultRepoSettings>["issues"]>) {
  const settings = defaultRepoSettings();
  return { ...settings, issues: { ...settings.issues, ...issues } };
}

describe("choosing where a breach is reported", () => {
  it("keeps a private repository's issue in place, unless it asks to be central", () => {
    expect(chooseRoute(breachOf("private"), defaultRepoSettings(), "acme/security")).toEqual({
      kind: "issue",
      repository: "acme/app",
      routed: false,
    });
    expect(chooseRoute(breachOf("internal"), settingsWith({ central: true }), "acme/security")).toEqual({
      kind: "issue",
      repository: "acme/security",
      routed: true,
    });
  });

  it("sends a public repository's breach to the organisation's security repository before the server's", () => {
    expect(
      chooseRoute(breachOf("public"), settingsWith({ repository: "acme/sec" }), "ops/security"),
    ).toMatchObject({
      repository: "acme/sec",
      routed: true,
    });
    expect(chooseRoute(breachOf("public"), defaultRepoSettings(), "ops/security")).toMatchObject({
      repository: "ops/security",
    });
  });

  it("withholds a public repository's breach when no security repository is set, and says what to set", () => {
    for (const visibility of ["public", undefined] as const) {
      const route = chooseRoute(breachOf(visibility), defaultRepoSettings(), undefined);
      expect(route).toMatchObject({ kind: "withheld", refused: false });
      expect(route.kind === "withheld" && route.reason).toMatch(
        /acme\/app is public.*issues\.repository in acme\/\.github's \.github\/leakwarden\.yml, or LEAKWARDEN_SECURITY_REPO/,
      );
    }
    expect(chooseRoute(breachOf("public"), settingsWith({ repository: "acme/app" }))).toMatchObject({
      kind: "withheld",
      refused: true,
    });
  });
});

describe("checking the security repository", () => {
  const octokit = new TestOctokit({ auth: "test" });
  it("accepts a private repository", async () => {
    nock(API).get("/repos/acme/security").reply(200, { private: true, visibility: "private" });
    expect(await securityRepositoryProblem(octokit, "acme/security")).toBeNull();
  });
  it.each([
    [{ private: false, visibility: "public" }, /acme\/security is public: leakwarden refuses/],
    [{ private: true, visibility: "internal" }, /acme\/security is internal: leakwarden refuses/],
  ])("refuses %j", async (answer, reason) => {
    nock(API).get("/repos/acme/security").reply(200, answer);
    expect(await securityRepositoryProblem(octokit, "acme/security")).toMatch(reason);
  });
  it("refuses one it cannot read, and lets a server error be retried", async () => {
    nock(API).get("/repos/acme/security").reply(404, { message: "Not Found" });
    expect(await securityRepositoryProblem(octokit, "acme/security")).toMatch(
      /cannot be read \(404\).*App is not installed on it/,
    );
    nock(API).get("/repos/acme/security").reply(500, { message: "boom" });
    await expect(securityRepositoryProblem(octokit, "acme/security")).rejects.toThrow();
  });
});

describe("the organisation's settings", () => {
  const octokit = new TestOctokit({ auth: "test" });
  const raw = { "content-type": "text/plain; charset=utf-8" };

  it("are read from OWNER/.github, and name the security repository for every repository", async () => {
    nock(API)
      .get("/repos/acme/.github/contents/.github%2Fleakwarden.yml")
      .reply(200, "issues:\n  repository: acme/security\n  central: true\n", raw);
    const org = await readOrgSettings(octokit, "acme");
    expect(org).toEqual({ repository: "acme/security", central: true, publicNotice: false });
    const own = { issues: { public_notice: true } };
    const { settings, problem } = withOrgSettings(parseRepoSettings(own).settings, org, own);
    expect(problem).toBeUndefined();
    expect(settings.issues).toMatchObject({ repository: "acme/security", central: true, publicNotice: true });
  });

  it("win over a repository's own issues.repository, which is named as not used", () => {
    const own = { issues: { repository: "someone/elsewhere" } };
    const org = { repository: "acme/security", central: false, publicNotice: false };
    const routed = withOrgSettings(parseRepoSettings(own).settings, org, own);
    expect(routed.settings.issues.repository).toBe("acme/security");
    expect(routed.problem).toMatch(/"issues.repository" is an organisation setting and was not used here/);
    const none = withOrgSettings(
      parseRepoSettings(own).settings,
      { central: false, publicNotice: false },
      own,
    );
    expect(none.settings.issues.repository).toBeUndefined();
  });

  it("that cannot be read route nothing, and say why", async () => {
    nock(API).get("/repos/acme/.github/contents/.github%2Fleakwarden.yml").reply(500, { message: "boom" });
    const org = await readOrgSettings(octokit, "acme");
    expect(org.repository).toBeUndefined();
    expect(org.problem).toMatch(/acme\/\.github's settings could not be read/);
  });
});

describe("LEAKWARDEN_SECURITY_REPO", () => {
  const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
  const base = { APP_ID: "12", PRIVATE_KEY: pem, WEBHOOK_SECRET: "s3cret" };
  it("names a repository as owner/name, or serve refuses to start", () => {
    expect(serveConfigFrom({ ...base, LEAKWARDEN_SECURITY_REPO: "acme/security" }).securityRepository).toBe(
      "acme/security",
    );
    expect(() => serveConfigFrom({ ...base, LEAKWARDEN_SECURITY_REPO: "acme/../x" })).toThrow(
      /LEAKWARDEN_SECURITY_REPO must name a repository as owner\/name/,
    );
  });
});
