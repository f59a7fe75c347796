import { generateKeyPairSync } from "node:crypto";
import nock from "nock";
import { Probot } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOctokit } from "../../src/app/octokit.js";
import { TestOctokit } from "../support/probot.js";

const GHE = "https://ghe.example.test";

function probotOn(baseUrl: string | undefined, Octokit: typeof TestOctokit): Probot {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return new Probot({
    appId: 1,
    privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    secret: "test-secret",
    logLevel: "fatal",
    ...(baseUrl ? { baseUrl } : {}),
    Octokit,
  });
}

beforeAll(() => nock.disableNetConnect());
afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("the App's Octokit on GitHub Enterprise Server", () => {
  it("mints an installation token for git on the server, not on api.github.com, with no token cached", async () => {
    const probot = probotOn(`${GHE}/api/v3`, appOctokit(TestOctokit, `${GHE}/api/v3`));
    const minted = nock(GHE)
      .post("/api/v3/app/installations/7/access_tokens")
      .reply(201, {
        token: "ghs_minted_on_the_server",
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      });
    const octokit = await probot.auth(7);
    const { token } = (await octokit.auth({ type: "installation" })) as { token: string };
    expect(token).toBe("ghs_minted_on_the_server");
    expect(minted.isDone()).toBe(true);
  });

  it("without it, Probot's own authentication would ask api.github.com (why appOctokit exists)", async () => {
    const probot = probotOn(`${GHE}/api/v3`, TestOctokit);
    const octokit = await probot.auth(8);
    await expect(octokit.auth({ type: "installation" })).rejects.toThrow(/api\.github\.com/);
  });

  it("keeps API calls on the server, with the token it minted there", async () => {
    const probot = probotOn(`${GHE}/api/v3`, appOctokit(TestOctokit, `${GHE}/api/v3`));
    nock(GHE)
      .post("/api/v3/app/installations/9/access_tokens")
      .reply(201, { token: "ghs_for_the_call", expires_at: new Date(Date.now() + 3_600_000).toISOString() })
      .get("/api/v3/repos/acme/app")
      .matchHeader("authorization", "token ghs_for_the_call")
      .reply(200, { full_name: "acme/app" });
    const octokit = await probot.auth(9);
    expect((await octokit.rest.repos.get({ owner: "acme", repo: "app" })).data.full_name).toBe("acme/app");
  });
});
