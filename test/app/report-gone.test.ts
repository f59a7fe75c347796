import { describe, expect, it } from "vitest";
import { goneDestination } from "../../src/app/report-gone.js";
import { JobCancelled } from "../../src/jobs/stage.js";

const notFound = (url: string) => Object.assign(new Error("Not Found"), { status: 404, request: { url } });

/** An installation client whose GET /repos/:owner/:repo answers as `sees` says. */
function client(sees: (fullName: string) => boolean | "error") {
  const asked: string[] = [];
  const octokit = {
    rest: {
      repos: {
        get: async ({ owner, repo }: { owner: string; repo: string }) => {
          asked.push(`${owner}/${repo}`);
          const answer = sees(`${owner}/${repo}`);
          if (answer === "error") throw Object.assign(new Error("Server Error"), { status: 502 });
          if (!answer) throw notFound(`https://ghe.example/api/v3/repos/${owner}/${repo}`);
          return { data: {} };
        },
      },
    },
  };
  return { octokit: octokit as unknown as Parameters<typeof goneDestination>[1], asked };
}

describe("a report whose destination is gone", () => {
  it("is cancelled when GitHub no longer knows the installation", async () => {
    const cancel = await goneDestination(
      notFound("https://api.github.com/app/installations/42/access_tokens"),
      undefined,
    );
    expect(cancel).toBeInstanceOf(JobCancelled);
    expect(cancel?.message).toBe("installation 42 no longer exists (the App was uninstalled)");
  });

  it("is cancelled when the App no longer sees the repository a request failed on", async () => {
    const { octokit, asked } = client(() => false);
    const cancel = await goneDestination(
      notFound("https://ghe.example/api/v3/repos/acme/app/issues?labels=leakwarden"),
      octokit,
    );
    expect(asked).toEqual(["acme/app"]);
    expect(cancel?.message).toContain("can no longer see acme/app");
  });

  it("is retried when the repository is still there, the check fails, or the failure is not a 404", async () => {
    const sees = client(() => true);
    expect(
      await goneDestination(notFound("https://api.github.com/repos/acme/app/labels/x"), sees.octokit),
    ).toBeUndefined();
    const flaky = client(() => "error");
    expect(
      await goneDestination(notFound("https://api.github.com/repos/acme/app/issues"), flaky.octokit),
    ).toBeUndefined();
    const refused = Object.assign(new Error("Forbidden"), {
      status: 403,
      request: { url: "https://api.github.com/repos/acme/app/issues" },
    });
    const untouched = client(() => false);
    expect(await goneDestination(refused, untouched.octokit)).toBeUndefined();
    expect(untouched.asked).toEqual([]);
    expect(await goneDestination(new Error("socket hang up"), untouched.octokit)).toBeUndefined();
  });
});
