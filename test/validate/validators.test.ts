// Every live check against nock: the exact read-only call to the issuer, live with identity and scopes,
// inactive, throttled, an outage, no answer; and no token ever sent to a host other than its issuer's.
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { openStore, type Store } from "../../src/store/index.js";
import { builtInValidators, LiveChecker } from "../../src/validate/checker.js";
import { validateSettings } from "../../src/validate/settings.js";
import { signV4 } from "../../src/validate/sigv4.js";
import type { ValidationTarget, Validator } from "../../src/validate/types.js";
import { tokens } from "../support/tokens.js";

const t = tokens(1010);
const NOW = Date.parse("2026-11-30T12:00:00Z");
const settings = validateSettings({}, { timeoutMs: 300, now: () => NOW });
const validators = builtInValidators(settings);
const validator = (rule: string) => validators.get(rule) as Validator;
const target = (value: string, extra: Partial<ValidationTarget> = {}): ValidationTarget => ({
  secretHash: secretHash(value),
  secret: new Secret(value),
  ...extra,
});

/** Requests to any host nock does not stand in for: none may carry a token, so none may happen. */
const unmatched: string[] = [];
const onNoMatch = (req: { href?: string; host?: string; path?: string }) => {
  unmatched.push(String(req.href ?? `${req.host}${req.path}`));
};
beforeEach(() => {
  nock.disableNetConnect();
  unmatched.length = 0;
  nock.emitter.on("no match", onNoMatch);
});
afterEach(() => {
  nock.emitter.removeListener("no match", onNoMatch);
  nock.cleanAll();
  nock.enableNetConnect();
});

interface Case {
  rule: string;
  host: string;
  method: "get" | "post";
  path: string;
  liveBody: unknown;
  liveHeaders?: Record<string, string>;
  identity: RegExp;
  scopes?: string[];
  inactive: [number, unknown];
  extra?: Partial<ValidationTarget>;
}

const awsSecret = t.make("aws-secret-access-key");
const CASES: Case[] = [
  {
    rule: "github-pat",
    host: "https://api.github.com",
    method: "get",
    path: "/user",
    liveBody: { login: "octocat" },
    liveHeaders: { "X-OAuth-Scopes": "repo, gist" },
    identity: /GitHub user octocat/,
    scopes: ["repo", "gist"],
    inactive: [401, { message: "Bad credentials" }],
  },
  {
    rule: "github-installation-token",
    host: "https://api.github.com",
    method: "get",
    path: "/installation/repositories?per_page=1",
    liveBody: { total_count: 3 },
    identity: /installation with access to 3 repositories/,
    inactive: [401, { message: "Bad credentials" }],
  },
  {
    rule: "azure-devops-pat",
    host: "https://dev.azure.com",
    method: "get",
    path: "/contoso/_apis/connectionData?api-version=7.1",
    liveBody: { authenticatedUser: { providerDisplayName: "Dana Dev" } },
    identity: /Dana Dev in contoso/,
    inactive: [203, "<html>sign in</html>"],
    extra: { org: "contoso" },
  },
  {
    rule: "gitlab-pat",
    host: "https://gitlab.com",
    method: "get",
    path: "/api/v4/personal_access_tokens/self",
    liveBody: { name: "ci", user_id: 42, scopes: ["api", "read_user"], active: true },
    identity: /GitLab token "ci" of user 42/,
    scopes: ["api", "read_user"],
    inactive: [401, { message: "401 Unauthorized" }],
  },
  {
    rule: "npm-token",
    host: "https://registry.npmjs.org",
    method: "get",
    path: "/-/whoami",
    liveBody: { username: "dana" },
    identity: /npm user dana/,
    inactive: [401, { error: "unauthorized" }],
  },
  {
    rule: "slack-bot-token",
    host: "https://slack.com",
    method: "post",
    path: "/api/auth.test",
    liveBody: { ok: true, user: "deploybot", team: "Acme" },
    identity: /Slack user deploybot in Acme/,
    inactive: [200, { ok: false, error: "token_revoked" }],
  },
  {
    rule: "openai-api-key",
    host: "https://api.openai.com",
    method: "get",
    path: "/v1/models",
    liveBody: { data: [] },
    liveHeaders: { "openai-organization": "org-acme" },
    identity: /OpenAI organization org-acme/,
    inactive: [401, { error: { message: "Incorrect API key provided" } }],
  },
  {
    rule: "anthropic-api-key",
    host: "https://api.anthropic.com",
    method: "get",
    path: "/v1/models",
    liveBody: { data: [] },
    identity: /Anthropic API key/,
    inactive: [401, { type: "error", error: { type: "authentication_error" } }],
  },
  {
    rule: "stripe-live-key",
    host: "https://api.stripe.com",
    method: "get",
    path: "/v1/account",
    liveBody: { id: "acct_123" },
    identity: /Stripe account acct_123/,
    inactive: [401, { error: { message: "Invalid API Key provided" } }],
  },
  {
    rule: "huggingface-token",
    host: "https://huggingface.co",
    method: "get",
    path: "/api/whoami-v2",
    liveBody: { name: "dana", auth: { accessToken: { role: "write" } } },
    identity: /Hugging Face user dana/,
    scopes: ["write"],
    inactive: [401, { error: "Invalid credentials in Authorization header" }],
  },
  {
    rule: "aws-access-key-id",
    host: "https://sts.amazonaws.com",
    method: "post",
    path: "/",
    liveBody: {
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: { Arn: "arn:aws:iam::123456789012:user/dana", Account: "123456789012" },
      },
    },
    identity: /arn:aws:iam::123456789012:user\/dana/,
    inactive: [403, { Error: { Code: "InvalidClientTokenId" } }],
    extra: { partner: new Secret(awsSecret) },
  },
];

function intercept(c: Case) {
  const scope = nock(c.host);
  const path = c.path.split("?")[0] as string;
  return (c.method === "get" ? scope.get(path) : scope.post(path)).query(true);
}

describe.each(CASES)("$rule", (c) => {
  const value = t.make(c.rule);

  it("live: the identity and scopes, and the token went only to its issuer", async () => {
    const carried: string[] = [];
    const scope = intercept(c).reply(function (
      this: { req: { headers: Record<string, string> } },
      uri,
      body,
    ) {
      carried.push(`${uri} ${JSON.stringify(this.req.headers)} ${String(body)}`);
      return [200, c.liveBody as never, c.liveHeaders ?? {}];
    });
    const verdict = await validator(c.rule).validate(target(value, c.extra));
    expect(verdict).toMatchObject({ status: "live", identity: expect.stringMatching(c.identity) });
    if (c.scopes) expect(verdict).toMatchObject({ scopes: c.scopes });
    expect(JSON.stringify(verdict)).not.toContain(value);
    expect(scope.isDone()).toBe(true);
    expect(unmatched).toEqual([]);
    expect(carried).toHaveLength(1);
    // The AWS secret key signs the request and is never sent; every other token is (Basic auth for a PAT).
    const sent = c.rule === "azure-devops-pat" ? Buffer.from(`:${value}`).toString("base64") : value;
    if (c.rule === "aws-access-key-id") expect(carried[0]).not.toContain(awsSecret);
    else expect(carried[0]).toContain(sent);
  });

  it("inactive when the issuer refuses it", async () => {
    intercept(c).reply(c.inactive[0], c.inactive[1] as never);
    expect(await validator(c.rule).validate(target(value, c.extra))).toMatchObject({ status: "inactive" });
  });

  it("unknown when throttled, in an outage, or with no answer", async () => {
    intercept(c).reply(429, "", { "Retry-After": "12" });
    expect(await validator(c.rule).validate(target(value, c.extra))).toEqual({
      status: "unknown",
      why: expect.stringMatching(/^throttled: .*\(retry after 12 s\)/),
    });
    intercept(c).reply(503);
    expect(await validator(c.rule).validate(target(value, c.extra))).toMatchObject({
      status: "unknown",
      why: expect.stringMatching(/^provider error/),
    });
    intercept(c)
      .delay(1000)
      .reply(200, c.liveBody as never);
    expect(await validator(c.rule).validate(target(value, c.extra))).toMatchObject({
      status: "unknown",
      why: expect.stringMatching(/no answer within 300 ms/),
    });
  });
});

describe("where tokens may go", () => {
  it("the base URL settings move the issuer (GHES, a test's stand-in), and nothing else does", async () => {
    const ghes = builtInValidators(
      validateSettings({ LEAKWARDEN_GITHUB_API_URL: "https://ghe.example.com/api/v3" }, { timeoutMs: 300 }),
    ).get("github-pat") as Validator;
    nock("https://ghe.example.com").get("/api/v3/user").reply(200, { login: "dana" });
    expect(await ghes.validate(target(t.githubPat()))).toMatchObject({ status: "live" });
  });

  it("checks that cannot be made say why, without calling anyone", async () => {
    expect(validator("aws-access-key-id").cannotCheck?.(target(t.make("aws-access-key-id")))).toMatch(
      /only with its secret access key/,
    );
    expect(validator("azure-devops-pat").cannotCheck?.(target(t.adoPat()))).toMatch(/organisation/);
  });
});

describe("SigV4", () => {
  it("signs AWS's published get-vanilla example to its published signature", () => {
    const headers = signV4(
      { method: "GET", url: "https://example.amazonaws.com/", headers: {}, body: "" },
      {
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: ["wJalrXUtnFEMI", "K7MDENG+bPxRfiCYEXAMPLEKEY"].join("/"),
      },
      "us-east-1",
      "service",
      new Date("2015-08-30T12:36:00Z"),
    );
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });
});

describe("the checker", () => {
  let store: Store;
  beforeEach(async () => {
    store = await openStore({ path: ":memory:", env: {} });
  });

  it("stores each verdict by hash for its time to live, never the token, and audits it", async () => {
    const value = t.githubPat();
    const checker = new LiveChecker({ store, validators, ttlMs: 60_000 });
    const scope = nock("https://api.github.com").get("/user").once().reply(200, { login: "octocat" });
    const first = await checker.check("github-pat", target(value));
    const again = await checker.check("github-pat", target(value));
    expect(scope.isDone()).toBe(true);
    expect(again).toEqual(first);
    expect(first.validity).toMatchObject({ status: "live", identity: "GitHub user octocat" });
    expect(JSON.stringify(await store.db.selectFrom("validations").selectAll().execute())).not.toContain(
      value,
    );
    expect(await store.audit.list({ action: "validate." })).toHaveLength(1);
    nock("https://api.github.com").get("/user").reply(401);
    expect((await checker.check("github-pat", target(value), { fresh: true })).validity.status).toBe(
      "inactive",
    );
  });

  it("never reuses an unknown verdict", async () => {
    const value = t.githubPat();
    const checker = new LiveChecker({ store, validators, ttlMs: 60_000 });
    nock("https://api.github.com").get("/user").reply(503);
    nock("https://api.github.com").get("/user").reply(200, { login: "octocat" });
    expect((await checker.check("github-pat", target(value))).validity.status).toBe("unknown");
    expect((await checker.check("github-pat", target(value))).validity.status).toBe("live");
  });

  it("paces calls per provider", async () => {
    const checker = new LiveChecker({ store, validators, ttlMs: 0, callsPerSecond: 2 });
    const at: number[] = [];
    nock("https://api.github.com")
      .get("/user")
      .times(3)
      .reply(() => {
        at.push(Date.now());
        return [200, { login: "octocat" }];
      });
    await Promise.all([1, 2, 3].map(() => checker.check("github-pat", target(t.githubPat()))));
    expect(at).toHaveLength(3);
    expect((at[2] as number) - (at[0] as number)).toBeGreaterThanOrEqual(900);
  });
});
