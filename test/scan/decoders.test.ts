// Decoders for where tokens hide in config files and CI logs, and their nesting.
import { describe, expect, it } from "vitest";
import { compileRules } from "../../src/scan/compile.js";
import { Engine, MAX_DECODE_DEPTH } from "../../src/scan/engine.js";
import { locate } from "../../src/scan/locate.js";
import { loadRules } from "../../src/scan/rules.js";
import { secretHash } from "../../src/scan/secret.js";
import { tokens } from "../support/tokens.js";

const engine = new Engine(compileRules(loadRules()));
const scan = (text: string) => locate(Buffer.from(text), engine.detect(Buffer.from(text)), { file: "t" });
const b64 = (s: string) => Buffer.from(s).toString("base64");
/** A JSON string literal's content with every character after the first 4 written as \uXXXX. */
const unicodeEscaped = (s: string) =>
  s.slice(0, 4) + [...s.slice(4)].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");

describe.each([1, 2, 3])("decoders (seed %i)", (seed) => {
  const t = tokens(seed);

  it("every value of a Kubernetes Secret's data: block", () => {
    const pat = t.githubPat();
    const npm = t.make("npm-token");
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ntype: Opaque\ndata:\n  user: ${b64("ci-bot")}\n  GITHUB_TOKEN: ${b64(pat)}\n  NPM_TOKEN: ${b64(npm)}\n`;
    const found = scan(manifest);
    expect(found.map((f) => [f.ruleId, f.encoding, f.secretHash])).toEqual([
      ["github-pat", "k8s-secret-base64", secretHash(pat)],
      ["npm-token", "k8s-secret-base64", secretHash(npm)],
    ]);
  });

  it(".npmrc _auth (user:password) and _password (password)", () => {
    const npm = t.make("npm-token");
    const gl = t.make("gitlab-pat-routable");
    const npmrc = `registry=https://npm.pkg.example/\n_auth=${b64(`ci:${npm}`)}\n//gitlab.example/api/v4/packages/npm/:_password=${b64(gl)}\n`;
    expect(scan(npmrc).map((f) => [f.ruleId, f.encoding])).toEqual([
      ["npm-token", "npmrc-base64"],
      ["gitlab-pat-routable", "npmrc-base64"],
    ]);
  });

  it("JSON \\u escapes and \\/ escapes", () => {
    const key = t.make("azure-storage-identifiable-key");
    const pat = t.githubPat();
    const json = `{"a": "${unicodeEscaped(pat)}", "b": "${key.replace(/\//g, "\\/")}"}`;
    const found = scan(json);
    expect(found.map((f) => [f.ruleId, f.encoding])).toContainEqual(["github-pat", "json-escaped"]);
    expect(found.filter((f) => f.ruleId === "azure-storage-identifiable-key")).toHaveLength(1);
  });

  it("a percent-encoded SAS signature", () => {
    const sig = Buffer.from(t.rng.bytes(32)).toString("base64");
    const url = `https://acct.blob.core.windows.net/c?sv=2022-11-02&se=2026-12-31&sp=r&sig=${encodeURIComponent(sig)}`;
    const found = scan(url).filter((f) => f.ruleId === "azure-sas-token");
    expect(found).toHaveLength(1);
    expect(found[0]?.secretHash).toBe(secretHash(sig));
  });

  it("nested: a Basic header, base64 inside a Kubernetes Secret", () => {
    const pat = t.adoPat();
    const header = `Authorization: Basic ${b64(`:${pat}`)}`;
    const found = scan(`kind: Secret\ndata:\n  header: ${b64(header)}\n`);
    expect(found.map((f) => [f.ruleId, f.encoding])).toEqual([
      ["azure-devops-pat", "k8s-secret-base64>base64-basic-auth"],
    ]);
  });

  it("nested: a URL password, percent-encoded inside a percent-encoded redirect", () => {
    const pat = t.githubPat();
    const inner = `https://bot:${pat}@git.example.org/repo.git`;
    const found = scan(`next=${encodeURIComponent(inner)}`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ ruleId: "github-pat" });
    expect(found[0]?.encoding).toMatch(/^percent-encoded/);
  });

  it(`stops after ${MAX_DECODE_DEPTH} levels`, () => {
    const pat = t.githubPat();
    let text = `Authorization: Basic ${b64(`:${pat}`)}`;
    for (let i = 0; i < MAX_DECODE_DEPTH; i++) text = `kind: Secret\ndata:\n  x: ${b64(text)}\n`;
    expect(scan(text)).toEqual([]);
  });

  it(".git-credentials and .netrc: plain text, found as it is", () => {
    const pat = t.githubPat();
    const gl = t.make("gitlab-pat");
    expect(scan(`https://me:${encodeURIComponent(pat)}@github.com\n`)[0]).toMatchObject({
      ruleId: "github-pat",
    });
    expect(scan(`machine gitlab.com login me password ${gl}\n`)[0]).toMatchObject({
      ruleId: "gitlab-pat",
      encoding: "plain",
    });
  });

  it("a database URL password, unless a token rule knows the password", () => {
    const password = t.rng.chars("abcdefghijkLMNOPQRS0123456789", 18);
    expect(scan(`DATABASE_URL=postgres://app:${password}@db:5432/app`).map((f) => f.ruleId)).toEqual([
      "postgres-url",
    ]);
    const pat = t.githubPat();
    expect(scan(`DATABASE_URL=postgres://app:${pat}@db:5432/app`).map((f) => f.ruleId)).toEqual([
      "github-pat",
    ]);
  });
});
