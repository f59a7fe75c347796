import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ServeConfigError, serveConfigFrom } from "../../src/app/config.js";
import { runCli, tempDir } from "../support/cli.js";

const dir = tempDir();
afterAll(dir.remove);
const pem = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .privateKey.export({ type: "pkcs1", format: "pem" })
  .toString();
const base = { APP_ID: "12", PRIVATE_KEY: pem, WEBHOOK_SECRET: "s3cret" };

describe("leakwarden serve's environment", () => {
  it("turns the console on with the App's OAuth client, and refuses half a setting", () => {
    expect(serveConfigFrom(base).console).toBeUndefined();
    const on = { ...base, GITHUB_CLIENT_ID: "Iv1.x", GITHUB_CLIENT_SECRET: "y" };
    expect(
      serveConfigFrom({ ...on, LEAKWARDEN_CONSOLE_TEAMS: "acme/security, acme/appsec" }).console?.teams,
    ).toEqual([
      { org: "acme", slug: "security" },
      { org: "acme", slug: "appsec" },
    ]);
    expect(() => serveConfigFrom({ ...base, GITHUB_CLIENT_ID: "Iv1.x" })).toThrow(/both GITHUB_CLIENT_ID/);
    expect(() => serveConfigFrom({ ...on, LEAKWARDEN_CONSOLE_TEAMS: "security" })).toThrow(
      /not ORG\/TEAM-SLUG/,
    );
    expect(() => serveConfigFrom({ ...on, LEAKWARDEN_CONSOLE_SECRET: "short" })).toThrow(/at least 32/);
  });
  it("refuses to start without WEBHOOK_SECRET, rather than fall back to a default", () => {
    expect(() => serveConfigFrom({ ...base, WEBHOOK_SECRET: "" })).toThrow(ServeConfigError);
    const result = runCli(["serve"], {
      env: { ...base, WEBHOOK_SECRET: undefined, LEAKWARDEN_DB: join(dir.path, "x.db") },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^leakwarden serve: WEBHOOK_SECRET is required/);
  });
  it.each([
    [{ APP_ID: undefined }, /set APP_ID/],
    [{ PRIVATE_KEY: undefined }, /set PRIVATE_KEY or PRIVATE_KEY_PATH/],
    [{ PRIVATE_KEY: "bm90IGEga2V5" }, /neither a PEM private key nor the base64 of one/],
    [{ PORT: "http" }, /PORT must be a whole number/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of/],
    [{ GHE_PROTOCOL: "ftp", GHE_HOST: "ghe.example.com" }, /GHE_PROTOCOL must be https or http/],
  ])("explains a wrong setting: %j", (change, message) => {
    expect(() => serveConfigFrom({ ...base, ...change } as NodeJS.ProcessEnv)).toThrow(message);
  });
  it("reads the key as PEM with escaped newlines, as base64, or from a file; and GitHub Enterprise", () => {
    const escaped = serveConfigFrom({ ...base, PRIVATE_KEY: pem.replace(/\n/g, "\\n") });
    expect(escaped.privateKey).toBe(pem);
    expect(serveConfigFrom({ ...base, PRIVATE_KEY: Buffer.from(pem).toString("base64") }).privateKey).toBe(
      pem,
    );
    const file = join(dir.path, "key.pem");
    writeFileSync(file, pem);
    const fromFile = serveConfigFrom({
      ...base,
      PRIVATE_KEY: undefined,
      PRIVATE_KEY_PATH: file,
      GHE_HOST: "ghe.example.com",
    });
    expect(fromFile).toMatchObject({
      privateKey: pem,
      baseUrl: "https://ghe.example.com/api/v3",
      gitUrl: "https://ghe.example.com",
      port: 3000,
      host: "localhost",
    });
  });
});
