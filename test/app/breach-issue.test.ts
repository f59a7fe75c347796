import { describe, expect, it } from "vitest";
import {
  type Breach,
  escapeMarkdown,
  type IssueFinding,
  renderBreachIssue,
  renderConfirmationComment,
  renderPublicNotice,
  renderRevocationComment,
  updateStatusInBody,
} from "../../src/app/breach-issue.js";
import { toPublic } from "../../src/report/public.js";
import { compileRules } from "../../src/scan/compile.js";
import { Engine } from "../../src/scan/engine.js";
import { locate } from "../../src/scan/locate.js";
import { loadRules } from "../../src/scan/rules.js";
import { secretHash as secretHashOf } from "../../src/scan/secret.js";
import { expectNotInText } from "../support/plaintext.js";
import { tokens } from "../support/tokens.js";

const engine = new Engine(compileRules(loadRules()));
const t = tokens(555);

function finding(text: string, file: string, revocation: IssueFinding["revocation"]): IssueFinding {
  const bytes = Buffer.from(text);
  const [found] = locate(bytes, engine.detect(bytes), { file });
  if (!found) throw new Error("no finding");
  return {
    ...toPublic(found),
    commit: "a".repeat(40),
    author: "Dev <dev@example.com>",
    date: "2026-11-28T00:00:00Z",
    revocation,
  };
}

describe("the breach issue", () => {
  const pat = t.adoPat();
  const github = t.githubPat();
  const breach: Breach = {
    repository: { fullName: "acme/app", htmlUrl: "https://github.com/acme/app" },
    source: {
      kind: "push",
      ref: "refs/heads/main",
      before: "b".repeat(40),
      after: "c".repeat(40),
      pusher: "octocat",
    },
    findings: [
      finding(`PAT=${pat}`, "deploy/pipeline.yml", {
        status: "revoked",
        provider: "azure-devops",
        at: "2026-11-28T10:00:00Z",
      }),
      finding(`x=${github}`, "src/a|b.ts", {
        status: "skipped",
        provider: "github",
        at: null,
        reason: "not in the registry, and the policy revokes registered tokens only",
      }),
    ],
  };
  const { title, body } = renderBreachIssue(breach);

  it("never holds a token, only its redacted preview", () => {
    for (const secret of [pat, github]) {
      expect(body).not.toContain(secret);
      expect(title).not.toContain(secret);
    }
    expect(body).toContain(`\`…${pat.slice(-4)}\``);
  });
  it("says what was found, with a link to the file and line at that commit", () => {
    expect(title).toBe("Leaked 2 tokens in push to main");
    expect(body).toContain("@octocat, leakwarden found 2 credentials in your push to `refs/heads/main`");
    expect(body).toContain(
      `[deploy/pipeline.yml:1](https://github.com/acme/app/blob/${"a".repeat(40)}/deploy/pipeline.yml#L1)`,
    );
    expect(body).toContain("src/a\\|b.ts:1");
  });
  it("says what leakwarden did for each token", () => {
    expect(body).toMatch(/revoked at 2026-11-28T10:00:00Z through the Azure DevOps Token Admin API/);
    expect(body).toMatch(/not revoked automatically: not in the registry, .*revoke it by hand now/);
  });
  it("says what to do now, per provider, and that deleting the commit is not enough", () => {
    expect(body).toContain(
      "Deleting the commit or the log does not undo the leak: the token must be revoked.",
    );
    expect(body).toContain("User settings > Personal access tokens");
    expect(body).toMatch(/narrowest scopes/);
    expect(body).toMatch(/Microsoft Entra tokens/);
    expect(body).toMatch(/audit log/);
    expect(body).toContain("### GitHub token");
  });
  it("reports an ignored settings file", () => {
    expect(
      renderBreachIssue({ ...breach, settingsProblem: '"revoke" must be registered, all or off' }).body,
    ).toMatch(/leakwarden\.yml` was ignored and defaults applied: "revoke" must be registered, all or off/);
  });
  it("describes a workflow run", () => {
    const run = renderBreachIssue({
      ...breach,
      source: {
        kind: "workflow_run",
        runId: 42,
        runName: "CI",
        runUrl: "https://github.com/acme/app/actions/runs/42",
        actor: "dev-1",
        attempt: 2,
        logsDeleted: true,
      },
    });
    expect(run.title).toBe("Leaked 2 tokens in workflow run CI #42");
    expect(run.body).toContain("@dev-1, leakwarden found 2 credentials in the logs of [CI #42]");
    expect(run.body).toContain("The run's logs were deleted");
  });
  it("escapes what the repository controls", () => {
    expect(escapeMarkdown("<img src=x onerror=alert(1)> @everyone [x](y)")).not.toMatch(
      /<img|@everyone|(?<!\\)\]\(/,
    );
    const hostile = renderBreachIssue({
      ...breach,
      source: { ...breach.source, pusher: "<script>" } as Breach["source"],
    });
    expect(hostile.body).not.toContain("<script>");
  });
  it("comments a revocation outcome without the token", () => {
    const comment = renderRevocationComment(breach.findings[0] as IssueFinding, {
      status: "failed",
      provider: "azure-devops",
      at: null,
      reason: "HTTP 401",
    });
    expect(comment).toMatch(/revocation failed: HTTP 401; \*\*revoke it by hand now\*\*/);
    expect(comment).not.toContain(pat);
  });
  it("stays under GitHub's length limit at 10,000 findings, most severe first, and says how to list them all", () => {
    const [revoked, skipped] = breach.findings as [IssueFinding, IssueFinding];
    const many: IssueFinding[] = Array.from({ length: 10_000 }, (_, i) => ({
      ...(i % 2 ? skipped : revoked),
      severity: i === 9_999 ? "critical" : "medium",
      file: `${"deep/".repeat(i % 7 ? 3 : 900)}file-${i}.yml`,
      line: i + 1,
    }));
    const { body } = renderBreachIssue({ ...breach, findings: many });
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain("2 credentials in 10000 places");
    const shown = body.match(/^\| [^|]*\| `/gm)?.length ?? 0;
    expect(shown).toBeGreaterThan(20);
    expect(body).toContain(`…and ${10_000 - shown} more`);
    expect(body).toContain(`leakwarden findings list --json | jq '.[] | select(.source == "acme/app")'`);
    // The one critical finding, last in the scan, is the first row.
    expect(body.match(/^\| [^|]*\| `.*$/m)?.[0]).toContain("file-9999.yml");
    expect(body).toMatch(/<!-- leakwarden:breach [^ ]+ -->$/);
  });
});

describe("live checks and confirmed revocation in the issue", () => {
  const github = t.githubPat();
  const base = {
    repository: { fullName: "acme/app", htmlUrl: "https://github.com/acme/app" },
    source: {
      kind: "push",
      ref: "refs/heads/main",
      before: "b".repeat(40),
      after: "c".repeat(40),
      pusher: "o",
    },
  } as const;

  it("says live with the identity and scopes, or inactive, after what leakwarden did", () => {
    const live = finding(`x=${github}`, "a.ts", {
      status: "revoked",
      provider: "github",
      at: null,
      confirmation: "accepted",
    });
    const { body } = renderBreachIssue({
      ...base,
      findings: [
        {
          ...live,
          validation: {
            status: "live",
            provider: "github",
            identity: "GitHub user octocat",
            scopes: ["repo"],
            checkedAt: "",
          },
        },
      ],
    });
    expect(body).toMatch(
      /revocation accepted through the GitHub credential revocation API\. [^\n]*<!--\/lw:did--> Live check: \*\*live\*\*, GitHub user octocat \(repo\)\./,
    );
    const dead = renderBreachIssue({
      ...base,
      findings: [
        { ...live, validation: { status: "inactive", provider: "github", reason: "401", checkedAt: "" } },
      ],
    });
    expect(dead.body).toContain("Live check: inactive");
  });

  it("a revocation that did not take is loud, and asks for a revocation by hand", () => {
    const comment = renderConfirmationComment({
      secretHash: "sha256:x",
      preview: "ghp_…abcd",
      provider: "github",
      status: "did-not-take",
      detail: "github said the token was revoked, but it still works",
      reopened: [1],
    });
    expect(comment).toMatch(
      /^🚨 `ghp_…abcd`: \*\*revocation did not take\*\*: .*\*\*Revoke it by hand now\.\*\*$/,
    );
    const failed = renderRevocationComment(
      { redacted: "ghp_…abcd", description: "GitHub PAT" },
      {
        status: "failed",
        provider: "github",
        at: null,
        confirmation: "did-not-take",
        reason: "it still works",
      },
    );
    expect(failed).toMatch(/\*\*revocation did not take\*\*: it still works; \*\*revoke it by hand now\*\*/);
  });
});

describe("the breach issue, for its readers", () => {
  const pat = t.adoPat();
  const second = t.adoPat();
  const push = {
    kind: "push",
    ref: "refs/heads/main",
    before: "b".repeat(40),
    after: "c".repeat(40),
    pusher: "dana",
  } as const;
  const registered: IssueFinding = {
    ...finding(`export AZURE_DEVOPS_EXT_PAT=${pat}`, "scripts/deploy.sh", {
      status: "pending",
      provider: "azure-devops",
      at: null,
    }),
    date: "2026-11-28T10:00:00Z",
    findingId: 41,
    registry: {
      name: "release-bot",
      owner: "dana@contoso.com",
      org: "contoso",
      scopes: ["vso.code_write", "vso.packaging"],
      expiresAt: "2027-01-31T00:00:00Z",
    },
  };
  const breach: Breach = {
    repository: { fullName: "acme/app", htmlUrl: "https://github.com/acme/app" },
    source: push,
    findings: [registered],
  };
  const options = { consoleUrl: "https://leakwarden.example.com/console" };
  const { title, body } = renderBreachIssue(breach, options);

  it("has a title under 70 characters that names the kind of token, or counts them", () => {
    expect(title).toBe("Leaked Azure DevOps PAT in push to main");
    const two = renderBreachIssue({
      ...breach,
      findings: [
        registered,
        { ...registered, secretHash: secretHashOf(second), redacted: `…${second.slice(-4)}` },
      ],
    });
    expect(two.title).toBe("Leaked 2 Azure DevOps PATs in push to main");
    const mixed = renderBreachIssue({
      ...breach,
      findings: [
        registered,
        finding(`x=${t.githubPat()}`, "a.ts", { status: "skipped", provider: null, at: null }),
      ],
    });
    expect(mixed.title).toBe("Leaked 2 tokens in push to main");
    const long = renderBreachIssue({
      ...breach,
      source: { ...push, ref: `refs/heads/${"feature/".repeat(30)}x` },
    });
    expect(long.title.length).toBeLessThan(70);
    expect(long.title).toMatch(/^Leaked Azure DevOps PAT in push to feature\/feature.*…$/);
    const run = renderBreachIssue({
      ...breach,
      source: {
        kind: "workflow_run",
        runId: 9_123_456_789,
        runNumber: 12,
        runName: "Build",
        runUrl: "https://github.com/acme/app/actions/runs/9123456789",
        actor: "dana",
        attempt: 1,
        startedAt: "2026-11-28T09:00:00Z",
      },
    });
    expect(run.title).toBe("Leaked Azure DevOps PAT in workflow run Build #12");
    const longRun = renderBreachIssue({
      ...breach,
      source: {
        kind: "workflow_run",
        runId: 1,
        runName: "n".repeat(200),
        runUrl: "",
        actor: "d",
        attempt: 1,
        runNumber: 12345,
      },
    });
    expect(longRun.title.length).toBeLessThan(70);
    expect(longRun.title).toMatch(/… #12345$/);
  });

  it("shows each token's registry entry, so the developer knows what just broke", () => {
    expect(body).toContain(
      "Registry: **release-bot** (owner dana@\u200bcontoso.com; organisation contoso; scopes `vso.code_write vso.packaging`; expires 2027-01-31 00:00 UTC)",
    );
    const unknown = renderBreachIssue({ ...breach, findings: [{ ...registered, registry: null }] });
    expect(unknown.body).toContain("Registry: not registered, so leakwarden does not know whose it is");
  });

  it("shows the exposure window, open until revoked", () => {
    expect(body).toContain(
      "Exposed since 2026-11-28 10:00 UTC (committed): **still exposed** until it is revoked.",
    );
    const revoked = renderBreachIssue({
      ...breach,
      findings: [
        {
          ...registered,
          revocation: { status: "revoked", provider: "azure-devops", at: "2026-11-28T10:04:30Z" },
        },
      ],
    });
    expect(revoked.body).toContain(
      "Exposed from 2026-11-28 10:00 UTC (committed) to 2026-11-28 10:04 UTC (revoked): 5 min.",
    );
  });

  it("gives the finding id with its console link", () => {
    expect(body).toContain("| [#41](https://leakwarden.example.com/console/findings/41) |");
    expect(renderBreachIssue(breach).body).toMatch(/^\| #41 \|/m);
  });

  it("says where to keep the value instead, and the one-line change for the file", () => {
    expect(body).toContain("GitHub Actions");
    expect(body).toContain("Azure Key Vault");
    expect(body).toContain("Azure Pipelines");
    expect(body).toContain(
      ["```sh", `export AZURE_DEVOPS_EXT_PAT="${"$"}{AZURE_DEVOPS_EXT_PAT}"`, "```"].join("\n"),
    );
    const cases: [string, RegExp][] = [
      [".github/workflows/deploy.yml", /AZURE_DEVOPS_EXT_PAT: \$\{\{ secrets\.AZURE_DEVOPS_EXT_PAT \}\}/],
      ["azure-pipelines.yml", /AZURE_DEVOPS_EXT_PAT: \$\(AZURE_DEVOPS_EXT_PAT\)/],
      [".env", /```sh\nAZURE_DEVOPS_EXT_PAT=\n```/],
      ["tools/release.ps1", /\$token = \$env:AZURE_DEVOPS_EXT_PAT/],
      ["app/settings.py", /token = os\.environ\["AZURE_DEVOPS_EXT_PAT"\]/],
      ["src/client.js", /const token = process\.env\.AZURE_DEVOPS_EXT_PAT;/],
      ["appsettings.json", /```json\n"token": ""\n```/],
    ];
    for (const [file, line] of cases)
      expect(renderBreachIssue({ ...breach, findings: [{ ...registered, file }] }).body).toMatch(line);
    expect(
      renderBreachIssue({ ...breach, findings: [{ ...registered, file: "README" }] }).body,
    ).not.toContain("Then change the line");
  });

  it("says what to do about a false positive: leakwarden:allow, the console, or .leakwardenignore", () => {
    expect(body).toContain("`leakwarden:allow`");
    expect(body).toContain("in the [console](https://leakwarden.example.com/console/findings/41)");
    expect(body).toContain("`leakwarden findings resolve 41 --as false-positive");
    expect(body).toContain(`\`.leakwardenignore\``);
    expect(body).toContain(`\n${registered.fingerprint}\n`);
  });

  it("edits a token's status in place: its Status cells and its line, nothing else", () => {
    const other = {
      ...registered,
      secretHash: secretHashOf(second),
      redacted: `…${second.slice(-4)}`,
      findingId: 42,
    };
    const both = renderBreachIssue({ ...breach, findings: [registered, other] }, options).body;
    const revoked = { status: "revoked", provider: "azure-devops", at: "2026-11-28T10:02:00Z" } as const;
    const edited = updateStatusInBody(both, registered.secretHash, revoked);
    expect(edited).not.toBe(both);
    const rows = edited.split("\n").filter((l) => l.startsWith("| [#"));
    expect(rows[0]).toMatch(/-->revoked<!--\/lw:cell--> \|$/);
    expect(rows[1]).toMatch(/-->revocation pending<!--\/lw:cell--> \|$/);
    expect(edited).toContain("revoked at 2026-11-28T10:02:00Z through the Azure DevOps Token Admin API.");
    expect(edited).toContain("to 2026-11-28 10:02 UTC (revoked): 2 min.");
    expect(updateStatusInBody(edited, registered.secretHash, revoked)).toBe(edited);
    expectNotInText([both, edited, title], [pat, second]);
  });

  it("a public notice names no file, line, commit, branch or preview", () => {
    const notice = renderPublicNotice(2);
    expect(notice.title).toBe("2 leaked credentials were revoked");
    for (const word of ["deploy.sh", "main", pat.slice(-4), "c".repeat(7), registered.fingerprint])
      expect(`${notice.title}\n${notice.body}`).not.toContain(word);
  });
});

describe("a long breach issue with links and registry entries", () => {
  it("stays under GitHub's length limit with 10,000 findings of 3,000 tokens, each linked to the console", () => {
    const base = finding(`PAT=${t.adoPat()}`, "deploy/pipeline.yml", {
      status: "failed",
      provider: "azure-devops",
      at: null,
      reason: "HTTP 500 ".repeat(100),
    });
    const many: IssueFinding[] = Array.from({ length: 10_000 }, (_, i) => ({
      ...base,
      secretHash: `sha256:${(i % 3000).toString(16).padStart(64, "0")}`,
      file: `${"deep/".repeat(50)}file-${i}.sh`,
      findingId: 100_000 + i,
      registry: {
        name: "n".repeat(200),
        owner: "o".repeat(200),
        org: "contoso",
        scopes: ["vso.code"],
        expiresAt: null,
      },
    }));
    const { body } = renderBreachIssue(
      {
        repository: { fullName: "acme/app", htmlUrl: "https://github.com/acme/app" },
        source: {
          kind: "push",
          ref: "refs/heads/main",
          before: "b".repeat(40),
          after: "c".repeat(40),
          pusher: "o",
        },
        findings: many,
      },
      { consoleUrl: "https://leakwarden.example.com/console" },
    );
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toMatch(/…and \d+ more/);
    expect(body).toMatch(/<!-- leakwarden:breach [^ ]+ -->$/);
  });
});
