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
      issues: { enabled: true, labels: ["p0"], assignees: ["secteam"] },
      scan: { pushes: true, logs: false },
      logs: { delete: true },
    });
    expect(problem).toBeUndefined();
    expect(settings).toEqual({
      pathsIgnore: ["fixtures/**"],
      disabledRules: ["aws-access-key-id"],
      revoke: "live",
      validate: false,
      issues: { enabled: true, labels: ["security", "leaked-credential", "p0"], assignees: ["secteam"] },
      scan: { pushes: true, logs: false },
      logs: { delete: true },
    });
  });
  it.each([
    [{ revoke: "sometimes" }, /"revoke" must be registered, live, all or off/],
    [{ validate: "no" }, /"validate" must be true or false/],
    [{ scan: { pushes: "yes" } }, /"scan.pushes" must be true or false/],
    [{ colour: "red" }, /unknown setting "colour"/],
    [{ issues: { labels: "security" } }, /"issues.labels" must be a list of strings/],
    ["just text", /"the file" must be a map/],
  ])("an invalid file falls back to defaults and says why: %j", (raw, problem) => {
    const result = parseRepoSettings(raw);
    expect(result.settings).toEqual(defaultRepoSettings());
    expect(result.problem).toMatch(problem);
  });
});
