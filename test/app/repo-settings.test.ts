import { describe, expect, it } from "vitest";
import { defaultRepoSettings, parseRepoSettings } from "../../src/app/repo-settings.js";

describe(".github/leakwarden.yml", () => {
  it("defaults: scan pushes and logs, revoke registered tokens, open issues", () => {
    expect(parseRepoSettings(null)).toEqual({ settings: defaultRepoSettings() });
  });
  it("reads every setting", () => {
    const { settings, problem } = parseRepoSettings({
      "paths-ignore": ["fixtures/**"],
      rules: { disable: ["aws-access-key-id"] },
      revoke: "live",
      validate: false,
      issues: {
        enabled: true,
        labels: ["p0"],
        assignees: ["secteam"],
        repository: "acme/security",
        central: true,
        public_notice: true,
      },
      scan: { pushes: true, logs: false, text: false },
      logs: { delete: true },
      text: { redact: true },
    });
    expect(problem).toBeUndefined();
    expect(settings).toEqual({
      pathsIgnore: ["fixtures/**"],
      disabledRules: ["aws-access-key-id"],
      revoke: "live",
      validate: false,
      issues: {
        enabled: true,
        labels: ["security", "leaked-credential", "p0"],
        assignees: ["secteam"],
        repository: "acme/security",
        central: true,
        publicNotice: true,
      },
      scan: { pushes: true, logs: false, text: false },
      logs: { delete: true },
      text: { redact: true },
    });
  });
  it.each([
    [{ revoke: "sometimes" }, /"revoke" must be registered, live, all or off/],
    [{ validate: "no" }, /"validate" must be true or false/],
    [{ scan: { pushes: "yes" } }, /"scan.pushes" must be true or false/],
    [{ text: { redact: "yes" } }, /"text.redact" must be true or false/],
    [{ colour: "red" }, /unknown setting "colour"/],
    [{ issues: { labels: "security" } }, /"issues.labels" must be a list of strings/],
    [{ issues: { repository: "acme/../x" } }, /"issues.repository" must be a repository as owner\/name/],
    [{ issues: { public_notice: "yes" } }, /"issues.public_notice" must be true or false/],
    ["just text", /"the file" must be a map/],
  ])("an invalid file falls back to defaults and says why: %j", (raw, problem) => {
    const result = parseRepoSettings(raw);
    expect(result.settings).toEqual(defaultRepoSettings());
    expect(result.problem).toMatch(problem);
  });
  it.each([
    [{ issues: { labels: Array.from({ length: 11 }, (_, i) => `l${i}`) } }],
    [{ issues: { labels: ["x".repeat(51)] } }],
    [{ issues: { labels: Array.from({ length: 100_000 }, (_, i) => `label-${i}`) } }],
    [{ issues: { assignees: Array.from({ length: 11 }, (_, i) => `dev-${i}`) } }],
    [{ "paths-ignore": ["x".repeat(10_000)] }],
  ])("a huge or long list is refused before any work is done for it: %#", (raw) => {
    const result = parseRepoSettings(raw);
    expect(result.settings).toEqual(defaultRepoSettings());
    expect(result.problem).toMatch(/takes at most \d+ entries of at most \d+ characters each/);
  });

  it("never names a setting inherited through _extends: it belongs to another repository", () => {
    const own = { issues: { labels: ["p0"] } };
    const merged = { ...own, "prod-db-password-key": true, issues: { ...own.issues, "payroll-token": 1 } };
    const result = parseRepoSettings(merged, own);
    expect(result.problem).toMatch(/in a file named by _extends/);
    expect(result.problem).not.toMatch(/prod-db|payroll/);
    // This repository's own mistakes are still named.
    expect(parseRepoSettings({ colour: "red" }).problem).toMatch(/unknown setting "colour"/);
  });
});
