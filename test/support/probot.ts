// Probot for tests: a generated app key, and Octokit with retries and throttling off, so that a failure shows at once.
import { generateKeyPairSync } from "node:crypto";
import { Probot, ProbotOctokit } from "probot";

export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export function testProbot(): Probot {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return new Probot({
    appId: 1,
    privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    secret: "test-secret",
    Octokit: TestOctokit,
    logLevel: "fatal",
  });
}
