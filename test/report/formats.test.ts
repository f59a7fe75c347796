// Every --format through the real CLI: CSV parsed back, JUnit validated against its schema, GitHub workflow
// commands escaped, HTML opened in headless Chromium, and the run information in JSON and SARIF.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvCell } from "../../src/report/csv.js";
import { escapeData, escapeProperty } from "../../src/report/github.js";
import { ROOT, runCli, tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const t = tokens(1515);
const github = t.githubPat();
const pat = t.adoPat();
const npmToken = t.make("npm-token");
const dir = tempDir();
const tree = join(dir.path, "tree");
/** A file name that is markup, a CSV formula and a workflow-command breaker at once. */
const HOSTILE = `<img src=x onerror="document.title='pwned'">,=1%:.txt`;

beforeAll(() => {
  mkdirSync(join(tree, "deploy"), { recursive: true });
  writeFileSync(join(tree, "deploy", "pipeline.yml"), `env:\n  PAT: ${pat}\n`);
  writeFileSync(join(tree, HOSTILE), `token = "${github}"\n`);
  writeFileSync(join(tree, ".npmrc"), `//registry.npmjs.org/:_authToken=${npmToken}\n`);
});
afterAll(dir.remove);

const scan = (format: string, ...extra: string[]) =>
  runCli(["scan", "--format", format, ...extra, "."], { cwd: tree });

describe("--format csv", () => {
  it("writes one quoted, formula-safe row per finding and never the secret", () => {
    const result = scan("csv");
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split("\r\n");
    expect(lines[0]).toMatch(/^severity,confidence,ruleId,provider,file,line,/);
    expect(lines).toHaveLength(4);
    const hostile = lines.find((l) => l.includes("onerror")) as string;
    expect(hostile).toContain(`"<img src=x onerror=""document.title='pwned'"">,=1%:.txt"`);
    for (const secret of [github, pat, npmToken]) expect(result.stdout).not.toContain(secret);
  });

  it("quotes separators and defuses formulas", () => {
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("-1+2")).toBe("'-1+2");
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvCell(undefined)).toBe("");
  });
});

describe("--format junit", () => {
  const xmllint = spawnSync("xmllint", ["--version"]).status === 0;

  it.skipIf(!xmllint)("validates against the JUnit schema, a failed test case per finding", () => {
    const result = scan("junit", "--output", join(dir.path, "junit.xml"));
    expect(result.code).toBe(1);
    const check = spawnSync(
      "xmllint",
      ["--noout", "--schema", join(ROOT, "test", "report", "junit.xsd"), join(dir.path, "junit.xml")],
      { encoding: "utf8" },
    );
    expect(check.stderr).toContain("validates");
    expect(check.status).toBe(0);
    const xml = readFileSync(join(dir.path, "junit.xml"), "utf8");
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml.match(/<failure /g)).toHaveLength(3);
    expect(xml).toContain("&lt;img src=x onerror=&quot;");
    expect(xml).not.toContain(github);
  });

  it.skipIf(!xmllint)("shows a clean scan as one passing test case", () => {
    writeFileSync(join(dir.path, "clean.txt"), "nothing here\n");
    const out = join(dir.path, "clean.xml");
    expect(runCli(["scan", "--format", "junit", "--output", out, join(dir.path, "clean.txt")]).code).toBe(0);
    const check = spawnSync("xmllint", [
      "--noout",
      "--schema",
      join(ROOT, "test", "report", "junit.xsd"),
      out,
    ]);
    expect(check.status).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/tests="1" failures="0"/);
  });

  it.skipIf(xmllint)("needs xmllint (Debian libxml2-utils) to validate the schema", () => {});
});

describe("--format github", () => {
  it("writes an annotation per finding whose properties cannot break out", () => {
    const result = scan("github");
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    const hostile = lines.find((l) => l.includes("onerror")) as string;
    // The file property keeps its own commas and colons escaped: the runner reads it back whole.
    expect(hostile).toMatch(
      /^::error file=<img src=x onerror="document.title='pwned'">%2C=1%25%3A.txt,line=1,/,
    );
    expect(lines.find((l) => l.includes("pipeline.yml"))).toMatch(
      /^::error file=deploy\/pipeline.yml,line=2,endLine=2,col=8,/,
    );
    expect(lines.at(-1)).toBe("::error title=leakwarden::3 leaked secrets found (scanned 3 files)");
    for (const secret of [github, pat, npmToken]) expect(result.stdout).not.toContain(secret);
  });

  it("escapes as the Actions runner expects", () => {
    expect(escapeData("50%\r\nnext")).toBe("50%25%0D%0Anext");
    expect(escapeProperty("a:b,c%")).toBe("a%3Ab%2Cc%25");
  });
});

describe("run information in JSON and SARIF", () => {
  it("names the tool version, rule set, targets and times", () => {
    const before = Date.now();
    const json = JSON.parse(scan("json").stdout);
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
    expect(json.run).toMatchObject({ tool: "leakwarden", version, targets: ["."] });
    expect(json.run.ruleSet.version).toMatch(/^[0-9a-f]{12}$/);
    expect(json.run.ruleSet.rules).toBeGreaterThan(10);
    const started = Date.parse(json.run.startedAt);
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(json.run.endedAt)).toBeGreaterThanOrEqual(started);

    const sarif = JSON.parse(scan("sarif").stdout);
    const [run] = sarif.runs;
    expect(run.tool.driver.version).toBe(version);
    expect(run.tool.driver.informationUri).toBe(
      JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).homepage,
    );
    expect(run.tool.driver.properties.ruleSetVersion).toBe(json.run.ruleSet.version);
    expect(run.invocations[0]).toMatchObject({ executionSuccessful: true, properties: { targets: ["."] } });
    expect(Date.parse(run.invocations[0].endTimeUtc)).toBeGreaterThanOrEqual(
      Date.parse(run.invocations[0].startTimeUtc),
    );
  });

  it("changes the rule set version when a rule is added", () => {
    const rules = join(dir.path, "rules");
    mkdirSync(rules, { recursive: true });
    writeFileSync(
      join(rules, "acme.yml"),
      `rules:\n  - id: acme-key\n    provider: acme\n    description: ACME key\n    regex: 'acme_[a-z0-9]{32}'\n    keywords: [acme_]\n    prefix: acme_\n    severity: high\n    confidence: medium\n    entropy: 3\n    examples:\n      match: ['key = acme_q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3']\n      nomatch: ['acme_']\n`,
    );
    const plain = JSON.parse(scan("json").stdout).run.ruleSet;
    const added = runCli(["scan", "--format", "json", "--rules", rules, "."], { cwd: tree });
    expect(added.stderr).toBe("");
    const extended = JSON.parse(added.stdout).run.ruleSet;
    expect(extended.rules).toBe(plain.rules + 1);
    expect(extended.version).not.toBe(plain.version);
  });
});

const CHROMIUM = "/usr/bin/chromium";

describe("--format html", () => {
  it.skipIf(!existsSync(CHROMIUM))(
    "opens offline in headless Chromium: counts, escaping, sorting and filtering work",
    async () => {
      const page = join(dir.path, "report.html");
      expect(scan("html", "--output", page).code).toBe(1);
      const html = readFileSync(page, "utf8");
      expect(html).not.toMatch(/<(link|img|iframe)\b|src="|href="|@import|url\(/i);
      for (const secret of [github, pat, npmToken]) expect(html).not.toContain(secret);

      const { chromium } = await import("playwright-core");
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      try {
        const tab = await browser.newPage();
        const requests: string[] = [];
        tab.on("request", (request) => requests.push(request.url()));
        const errors: string[] = [];
        tab.on("pageerror", (error) => errors.push(error.message));
        await tab.goto(pathToFileURL(page).href);
        expect(requests).toEqual([pathToFileURL(page).href]);
        expect(errors).toEqual([]);
        // The hostile file name is text, not an element that ran.
        expect(await tab.title()).toBe("leakwarden report: 3 findings");
        expect(await tab.locator("#findings img").count()).toBe(0);

        const providers = await tab.locator("#providers tbody tr").allInnerTexts();
        expect(providers.map((r) => r.replace(/\s+/g, " ").trim()).sort()).toEqual([
          "azure-devops 1",
          "github 1",
          "npm 1",
        ]);
        const column = (n: number) =>
          tab.locator(`#findings tbody tr:not([hidden]) td:nth-child(${n})`).allInnerTexts();
        expect(await tab.locator("#findings tbody tr").count()).toBe(3);

        await tab.click("#findings th:has-text('Provider')");
        expect(await column(3)).toEqual(["azure-devops", "github", "npm"]);
        await tab.click("#findings th:has-text('Provider')");
        expect(await column(3)).toEqual(["npm", "github", "azure-devops"]);
        await tab.click("#findings th:has-text('Line')");
        expect((await column(6)).map((c) => Number(c.split(":")[0]))).toEqual([1, 1, 2]);

        await tab.fill("#filter", "pipeline critical");
        expect(await column(5)).toEqual(["deploy/pipeline.yml"]);
        expect(await tab.locator("#shown").textContent()).toBe("1");
        await tab.fill("#filter", "");
        expect(await tab.locator("#findings tbody tr:not([hidden])").count()).toBe(3);
        expect(await tab.locator("#findings tbody").textContent()).toContain(HOSTILE);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it.skipIf(existsSync(CHROMIUM))(`needs Chromium at ${CHROMIUM} (apt-get install -y chromium)`, () => {});
});
