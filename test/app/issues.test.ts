import { join } from "node:path";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Breach, breachKey, renderBreachIssue } from "../../src/app/breach-issue.js";
import { openBreachIssue } from "../../src/app/issues.js";
import { defaultRepoSettings } from "../../src/app/repo-settings.js";
import { openStore } from "../../src/store/index.js";
import { tempDir } from "../support/cli.js";
import { TestOctokit } from "../support/probot.js";

const API = "https://api.github.com";
const dir = tempDir();
const store = await openStore({ path: join(dir.path, "issues.db"), env: {} });

function breachOn(ref: string): Breach {
  return {
    repository: { fullName: "acme/app", htmlUrl: "https://github.com/acme/app" },
    source: { kind: "push", ref, before: "b".repeat(40), after: "c".repeat(40), pusher: "octocat" },
    findings: [],
  };
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  await store.close();
  dir.remove();
});

describe("the breach issue's marker", () => {
  it("cannot be closed early by a ref: markup after --> never renders", () => {
    const { body } = renderBreachIssue(breachOn("refs/heads/x--->@octocat <img src=x onerror=alert(1)>"));
    const marker = body.slice(body.lastIndexOf("<!--"));
    expect(marker.indexOf("-->")).toBe(marker.length - 3);
    expect(marker.slice(4, -3)).not.toContain("--");
    expect(marker).not.toContain("<img");
  });

  it("is found again for a ref with --, so an interrupted attempt opens no second issue", async () => {
    const breach = breachOn("refs/heads/fix--again");
    const key = breachKey("acme/app", breach.source);
    // The first attempt claimed the key and opened the issue, then stopped before recording it.
    await store.breaches.open(key, "acme/app", 1, []);
    const { body } = renderBreachIssue(breach);
    nock(API)
      .get("/repos/acme/app/issues")
      .query(true)
      .reply(200, [{ number: 7, body, html_url: "https://github.com/acme/app/issues/7" }]);
    const octokit = new TestOctokit({ auth: "test" });
    const issue = await openBreachIssue(octokit, store, 1, breach, defaultRepoSettings());
    expect(issue).toEqual({ number: 7, url: "https://github.com/acme/app/issues/7", opened: false });
  });
});

describe("opening the breach issue", () => {
  it("is not retried blindly: a 5xx after GitHub created the issue opens no duplicate", async () => {
    // Octokit's own retry stays on here: it is what this test is about.
    const RetryingOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      retry: { retryAfterBaseValue: 1 },
      throttle: { enabled: false },
    }));
    const breach = breachOn("refs/heads/main");
    const { body } = renderBreachIssue(breach);
    let posts = 0;
    nock(API)
      .get(/\/repos\/acme\/app\/labels\/.*/)
      .times(2)
      .reply(200, {})
      .post("/repos/acme/app/issues")
      .times(2)
      .reply(() => {
        posts++;
        return posts === 1 ? [502, { message: "Bad Gateway" }] : [201, { number: 9, html_url: "x/9" }];
      })
      .get("/repos/acme/app/issues")
      .query(true)
      .reply(200, [{ number: 8, body, html_url: "https://github.com/acme/app/issues/8" }]);
    const issue = await openBreachIssue(
      new RetryingOctokit({ auth: "test" }),
      store,
      1,
      breach,
      defaultRepoSettings(),
    );
    expect(posts).toBe(1);
    expect(issue.number).toBe(8);
  });
});
