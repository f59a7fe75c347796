import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileRules } from "../../src/scan/compile.js";
import { type Detection, Engine } from "../../src/scan/engine.js";
import { locate } from "../../src/scan/locate.js";
import { loadRules } from "../../src/scan/rules.js";
import { scanFile, scanReadable } from "../../src/scan/scan-source.js";
import { secretHash } from "../../src/scan/secret.js";
import { tempDir } from "../support/cli.js";
import { SAMPLE_FORMATS, SeededRandom, tokens } from "../support/tokens.js";

const dir = tempDir();
afterAll(dir.remove);

const compiled = compileRules(loadRules());
const engine = new Engine(compiled);
const reference = new Engine(compiled, { exhaustive: true });

const summary = (d: Detection) => `${d.rule.rule.id}@${d.start}-${d.end}:${d.confidence}:${d.encoding}`;
const scan = (text: string | Buffer) => {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return locate(bytes, engine.detect(bytes), { file: "t" });
};

const FORMATS = Object.keys(SAMPLE_FORMATS);

/** A token of a format picked at random. */
function randomToken(rng: SeededRandom): string {
  const format = FORMATS[rng.below(FORMATS.length)] as string;
  return (SAMPLE_FORMATS[format] as (r: SeededRandom) => string)(rng);
}

/** Random text that looks like config and code, with decoys and planted tokens of every format. */
function randomDocument(rng: SeededRandom): string {
  const decoys = [
    "ghp_",
    "AZDO",
    "glpat-",
    "xoxb-",
    "AKIA",
    "://",
    "Basic ",
    "-u ",
    '"auth"',
    "PRIVATE KEY-----",
    "npm_",
  ];
  const parts: string[] = [];
  for (let i = 0; i < 400; i++) {
    const pick = rng.below(10);
    if (pick === 0) {
      const token = randomToken(rng);
      const wrap = rng.below(5);
      if (wrap === 0) parts.push(`Authorization: Basic ${Buffer.from(`:${token}`).toString("base64")}`);
      else if (wrap === 1) parts.push(`https://user:${encodeURIComponent(token)}@dev.azure.com/org`);
      else parts.push(token);
    } else if (pick === 1) {
      parts.push(decoys[rng.below(decoys.length)] as string);
    } else if (pick === 2) {
      parts.push(rng.chars("abcdefghijklmnopqrstuvwxyz234567", 45 + rng.below(15)));
    } else {
      parts.push(rng.chars("abcdefghij klmnop_=:/.\"'ABCDEFGH0123456789", 1 + rng.below(60)));
    }
    parts.push(rng.below(4) === 0 ? "\n" : " ");
  }
  return parts.join("");
}

describe("the keyword prefilter changes nothing but speed", () => {
  it.each(Array.from({ length: 12 }, (_, i) => i + 1))(
    "same detections as running every regex everywhere (seed %i)",
    (seed) => {
      const bytes = Buffer.from(randomDocument(new SeededRandom(seed)));
      const fast = engine.detect(bytes).map(summary);
      expect(fast.length).toBeGreaterThan(0);
      expect(fast).toEqual(reference.detect(bytes).map(summary));
    },
  );
});

/**
 * Text where the JSON-escape and percent-encoding decoders have work: tokens written with `\u00XX` and `\/`
 * escapes or percent-encoded, in strings and query strings, on lines short and long (their windows are cut at
 * line breaks), among decoy escapes.
 */
function escapedDocument(rng: SeededRandom): string {
  const parts: string[] = [];
  for (let i = 0; i < 300; i++) {
    const pick = rng.below(8);
    if (pick === 0) {
      const token = randomToken(rng);
      const cut = rng.below(token.length);
      const escaped = `\\u00${token.charCodeAt(cut).toString(16).padStart(2, "0")}`;
      parts.push(`"key": "${token.slice(0, cut)}${escaped}${token.slice(cut + 1)}",`);
    } else if (pick === 1) {
      const token = randomToken(rng);
      parts.push(
        `?sig=${token.replace(/[+/=_-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}%2F&x=1`,
      );
    } else if (pick === 2) {
      parts.push(rng.below(2) === 0 ? '"https:\\/\\/example.com\\/a"' : "%2F%3D%2b");
    } else {
      parts.push(rng.chars('abcdefghij klmnop_=:/."ABCDEFGH0123456789%\\', 1 + rng.below(80)));
    }
    parts.push(rng.below(3) === 0 ? "\n" : rng.below(2) === 0 ? "\r\n" : " ");
  }
  return parts.join("");
}

describe("decoders that stay on their keyword's line find what they find everywhere", () => {
  it.each(Array.from({ length: 8 }, (_, i) => i + 1))(
    "same detections as running every regex everywhere (seed %i)",
    (seed) => {
      const bytes = Buffer.from(escapedDocument(new SeededRandom(1000 + seed)));
      const fast = engine.detect(bytes).map(summary);
      expect(fast.filter((d) => /json-escaped|percent-encoded/.test(d)).length).toBeGreaterThan(0);
      expect(fast).toEqual(reference.detect(bytes).map(summary));
    },
  );
});

describe("findings", () => {
  const t = tokens(77);
  it("carry location, redaction, hash and a line-independent fingerprint", () => {
    const pat = t.adoPat();
    const [finding] = scan(`first line\n  token: ${pat}\n`);
    expect(finding).toMatchObject({
      ruleId: "azure-devops-pat",
      provider: "azure-devops",
      confidence: "high",
      file: "t",
      line: 2,
      column: 10,
      encoding: "plain",
      redacted: `…${pat.slice(-4)}`,
      secretHash: secretHash(pat),
    });
    expect(finding?.secretHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const [moved] = scan(`\n\n\n\n  token: ${pat}\n`);
    expect(moved?.line).toBe(5);
    expect(moved?.fingerprint).toBe(finding?.fingerprint);
  });
  it("keep the rule prefix in the redacted preview", () => {
    const token = t.githubPat();
    expect(scan(token)[0]?.redacted).toBe(`ghp_…${token.slice(-4)}`);
  });
  it("count columns in characters on lines with multi-byte text", () => {
    const token = t.githubPat();
    const [finding] = scan(`ünïcödé → ${token}`);
    expect(finding?.column).toBe(11);
  });
  it("never serialise or print the secret", () => {
    const token = t.githubPat();
    const [finding] = scan(token);
    expect(JSON.stringify(finding)).not.toContain(token);
    expect(String(finding?.secret)).toBe("[secret]");
    expect(finding?.secret.reveal()).toBe(token);
  });
  it("are suppressed by an inline leakwarden:allow comment", () => {
    expect(scan(`key = "${t.githubPat()}" # leakwarden:allow test fixture`)).toEqual([]);
  });
});

describe("Azure DevOps PATs", () => {
  const t = tokens(88);
  it("a checksum-valid 84-character PAT is high, a broken checksum medium", () => {
    expect(scan(t.adoPat())[0]?.confidence).toBe("high");
    expect(scan(t.corrupt(t.adoPat()))[0]?.confidence).toBe("medium");
  });
  it("a checksum-valid legacy PAT is high without any context", () => {
    expect(scan(`x ${t.adoLegacyPat()} y`)[0]?.confidence).toBe("high");
  });
  it("a legacy-shaped string with a bad checksum needs context on the same or a neighbouring line", () => {
    const bad = t.corrupt(t.adoLegacyPat());
    expect(scan(`value: ${bad}`)).toEqual([]);
    expect(scan(`ADO_PAT: ${bad}`)[0]?.confidence).toBe("medium");
    expect(scan(`# https://dev.azure.com/contoso\nvalue: ${bad}`)[0]?.confidence).toBe("medium");
    expect(scan(`# https://dev.azure.com/contoso\n\n\nvalue: ${bad}`)).toEqual([]);
    expect(scan(`env: System.AccessToken\nvalue: ${bad}`)[0]?.ruleId).toBe("azure-devops-pat-legacy");
  });
  it("words inside the token itself are not context", () => {
    const rng = new SeededRandom(5);
    // A base32 string that happens to contain "pat" and "ado" is still not a finding on its own.
    const decoy = `pat${rng.chars("bcefghijklmnqrstuvwxyz", 46)}ado`;
    expect(scan(`value: ${decoy}`)).toEqual([]);
  });
});

describe("decoders", () => {
  const t = tokens(99);
  const b64 = (s: string) => Buffer.from(s).toString("base64");

  it.each([
    ["an Authorization header", (pat: string) => `Authorization: Basic ${b64(`:${pat}`)}`],
    [
      "curl -H",
      (pat: string) =>
        `curl -H "Authorization: Basic ${b64(`build:${pat}`)}" https://dev.azure.com/o/_apis/projects`,
    ],
    [
      "git -c http.extraheader",
      (pat: string) => `git -c http.extraheader="AUTHORIZATION: basic ${b64(`:${pat}`)}" fetch origin`,
    ],
  ])("find a PAT in base64 Basic auth: %s", (_name, line) => {
    const pat = t.adoPat();
    const text = `+ ${line(pat)}`;
    const [finding] = scan(text);
    expect(finding).toMatchObject({
      ruleId: "azure-devops-pat",
      encoding: "base64-basic-auth",
      confidence: "high",
    });
    // The location is the encoded span.
    expect(text.slice((finding?.column ?? 0) - 1)).toMatch(/^[A-Za-z0-9+/]+=*/);
    expect(finding?.secretHash).toBe(secretHash(pat));
  });
  it("find a token in a docker config auth field", () => {
    const token = t.githubPat();
    expect(scan(`{"auths":{"ghcr.io":{"auth":"${b64(`me:${token}`)}"}}}`)[0]).toMatchObject({
      ruleId: "github-pat",
      encoding: "base64-docker-auth",
    });
  });
  it("find a token as the password of a URL, percent-encoded or not", () => {
    const pat = t.adoPat();
    const older = `${pat.slice(0, 80)}a+/b`;
    expect(scan(`https://me:${pat}@dev.azure.com/org/_git/repo`)[0]).toMatchObject({
      encoding: "url-userinfo",
    });
    const [encoded] = scan(`https://me:${encodeURIComponent(older)}@dev.azure.com/org`);
    expect(encoded).toMatchObject({
      ruleId: "azure-devops-pat",
      encoding: "url-userinfo",
      secretHash: secretHash(older),
    });
    expect(scan(`https://me:${pat}@dev.azure.com`).length).toBe(1);
  });
  it("find a token given to curl -u", () => {
    const token = t.githubPat();
    expect(scan(`curl -u octocat:${token} https://api.github.com/user`)[0]).toMatchObject({
      encoding: "curl-user",
    });
    expect(scan(`curl --user=":${token}" https://api.github.com/user`)[0]).toMatchObject({
      encoding: "curl-user",
    });
  });
  it("a legacy PAT with a bad checksum in a Basic header borrows the line's context", () => {
    const bad = t.corrupt(t.adoLegacyPat());
    const line = `curl -H "Authorization: Basic ${b64(`:${bad}`)}" https://dev.azure.com/contoso/_apis/projects`;
    expect(scan(line)[0]).toMatchObject({ ruleId: "azure-devops-pat-legacy", confidence: "medium" });
  });
  it("ignore base64 that is not credentials", () => {
    expect(scan(`Authorization: Basic ${b64("\u0001\u0002binary")}`)).toEqual([]);
  });
});

describe("placeholders are not findings", () => {
  it.each([
    "AZURE_DEVOPS_PAT=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "token: ghp_************************************",
    "token: <token>",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, on purpose
    "password: ${AZURE_DEVOPS_PAT}",
    "key: AKIAAAAAAAAAAAAAAAAA",
    "key: AKIAIOSFODNN7EXAMPLE",
    "hf_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
  ])("%s", (text) => expect(scan(text)).toEqual([]));
});

describe("hard input", () => {
  const t = tokens(111);
  it("scans a 1 MB minified line and finds the token at its end", () => {
    const token = t.githubPat();
    const line = `${"var a=1;".repeat(128 * 1024)}${token}`;
    const [finding] = scan(line);
    expect(finding).toMatchObject({ line: 1, column: 1024 * 1024 + 1 });
  });
  it("survives invalid UTF-8 and NUL bytes after the binary probe", () => {
    const token = t.githubPat();
    const bytes = Buffer.concat([
      Buffer.alloc(9000, 0x61),
      Buffer.from([0xff, 0xfe, 0x00, 0xc3]),
      Buffer.from(` ${token}`),
    ]);
    expect(scan(bytes)[0]?.ruleId).toBe("github-pat");
  });
  it("finds a token that straddles two chunks exactly once, with the right line and column", async () => {
    const token = t.adoPat();
    const chunkSize = 100_000;
    for (const offset of [chunkSize - 40, chunkSize - 20_000, chunkSize * 2 - 10]) {
      const head = `${"x".repeat(99)}\n`.repeat(Math.floor(offset / 100));
      const pad = "-".repeat(offset - head.length);
      const text = Buffer.from(`${head}${pad}${token}\n${"z".repeat(300_000)}`);
      let at = 0;
      const outcome = await scanReadable(
        engine,
        async (target, into, length) => {
          const n = text.copy(target, into, at, Math.min(text.length, at + length));
          at += n;
          return n;
        },
        "big.txt",
        chunkSize,
      );
      expect(outcome.findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([
        ["azure-devops-pat", Math.floor(offset / 100) + 1, pad.length + 1],
      ]);
      expect(outcome.bytes).toBe(text.length);
    }
  });
  it("skips binary content", async () => {
    const bytes = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]),
      Buffer.from(tokens(1).githubPat()),
    ]);
    let done = false;
    const outcome = await scanReadable(
      engine,
      async (target, into) => {
        if (done) return 0;
        done = true;
        return bytes.copy(target, into);
      },
      "a.out",
    );
    expect(outcome).toMatchObject({ skipped: "binary", findings: [] });
  });
});

describe("many findings in one buffer", () => {
  const t = tokens(6);
  it("counts the columns of many tokens on one long line, multi-byte text between them", () => {
    const pats = Array.from({ length: 300 }, () => t.githubPat());
    const line = pats.map((pat) => `é ${pat} `).join("");
    const found = scan(`first\n${line}\nlast ${pats[0]}\n`);
    let column = 1;
    const expected = pats.map((pat) => {
      const at = column + 2;
      column += pat.length + 3;
      return [2, at];
    });
    expect(found.map((f) => [f.line, f.column])).toEqual([...expected, [3, 6]]);
  });
  it("applies an inline leakwarden:allow only to its own line, wherever it comes in the buffer", () => {
    const lines = Array.from({ length: 50 }, (_, i) =>
      i % 10 === 9 ? `x = ${t.githubPat()} # leakwarden:allow` : `y = ${t.githubPat()} z ${t.githubPat()}`,
    );
    const found = scan(lines.join("\n"));
    expect(found).toHaveLength(45 * 2);
    expect(new Set(found.map((f) => f.line)).has(10)).toBe(false);
    expect(found.filter((f) => f.line === 9).map((f) => f.column)).toEqual([5, 48]);
  });
  it("reports 150,000 findings of one chunk (a spread into push overflowed the stack)", async () => {
    const text = Buffer.from(
      Array.from({ length: 150_000 }, (_, i) => `T${i}=${t.githubPat()}`).join("\n"),
      "latin1",
    );
    let at = 0;
    const outcome = await scanReadable(
      engine,
      async (target, into, length) => {
        const n = text.copy(target, into, at, Math.min(text.length, at + length));
        at += n;
        return n;
      },
      "many.env",
      text.length + 1,
    );
    expect(outcome.findings).toHaveLength(150_000);
    expect(outcome.findings[149_999]?.line).toBe(150_000);
  }, 60_000);
});

describe("UTF-16 text", () => {
  const t = tokens(16);
  const utf16 = (text: string, kind: "le" | "be", bom: boolean) => {
    const le = Buffer.from(`${bom ? "\ufeff" : ""}${text}`, "utf16le");
    return kind === "le" ? le : le.swap16();
  };
  it.each([
    ["LE with a byte-order mark", "le", true],
    ["BE with a byte-order mark", "be", true],
    ["LE without one (the regular NUL pattern)", "le", false],
    ["BE without one", "be", false],
  ] as const)("is decoded and scanned: %s, whole and in chunks", async (_name, kind, bom) => {
    const token = t.githubPat();
    const text = `${"# settings for the build agent\r\n".repeat(400)}TOKEN=${token}\r\n`;
    const bytes = utf16(text, kind, bom);
    const whole = join(dir.path, `utf16-${kind}-${bom}.env`);
    writeFileSync(whole, bytes);
    const small = await scanFile(engine, whole, "f");
    let at = 0;
    const chunked = await scanReadable(
      engine,
      async (target, into, length) => {
        const n = bytes.copy(target, into, at, Math.min(bytes.length, at + Math.min(length, 777)));
        at += n;
        return n;
      },
      "f",
      4096,
    );
    for (const outcome of [small, chunked]) {
      expect(outcome.skipped).toBeUndefined();
      expect(outcome.findings.map((f) => [f.ruleId, f.line, f.column])).toEqual([["github-pat", 401, 7]]);
      expect(outcome.findings[0]?.secret.reveal()).toBe(token);
    }
  });
  it("a binary file with scattered NULs stays binary", async () => {
    const bytes = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i % 7 === 0 ? 0 : 65 + (i % 26))));
    const path = join(dir.path, "scattered.bin");
    writeFileSync(path, bytes);
    expect((await scanFile(engine, path, "b")).skipped).toBe("binary");
  });
});
