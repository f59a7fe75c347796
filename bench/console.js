// npm run bench (console part): server time of the console's findings list and overview with 100,000 findings
// in a real SQLite file. Measured inside the HTTP server, from the request to the last byte written.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsoleServer } from "../dist/console/server.js";
import { createRevokers } from "../dist/revoke/providers.js";
import { loadRules } from "../dist/scan/rules.js";
import { openStore } from "../dist/store/index.js";
import { median } from "./median.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5) * 3;
const FINDINGS = 100_000;
const PROVIDERS = ["azure-devops", "github", "gitlab", "slack"];

const dir = mkdtempSync(join(tmpdir(), "leakwarden-bench-console-"));
// A clock that moves an hour per finding: 100,000 findings spread over 11 years of weeks.
let now = Date.parse("2015-01-01T00:00:00Z");
const store = await openStore({ path: join(dir, "console.db"), env: {}, clock: () => new Date(now) });
await store.transaction(async (tx) => {
  for (let i = 0; i < FINDINGS; i++) {
    now += 3600_000;
    const provider = PROVIDERS[i % PROVIDERS.length];
    const hash = `sha256:${randomBytes(32).toString("hex")}`;
    await tx.findings.record(
      {
        ruleId: `${provider}-token`,
        provider,
        description: `${provider} token`,
        severity: i % 3 ? "critical" : "high",
        confidence: i % 5 ? "high" : "medium",
        file: `src/module${i % 700}/file${i}.ts`,
        line: 1 + (i % 400),
        column: 5,
        endLine: 1 + (i % 400),
        endColumn: 60,
        encoding: "plain",
        redacted: `${provider.slice(0, 3)}…${hash.slice(-4)}`,
        secretHash: hash,
        fingerprint: hash.slice(7, 39),
        commit: hash.slice(7, 47),
        author: `dev${i % 90}@example.com`,
        date: new Date(now).toISOString(),
      },
      `acme/repo-${i % 60}`,
    );
  }
});
now = Date.now();

const token = randomBytes(16).toString("hex");
const consoleServer = new ConsoleServer({
  store,
  signIn: { kind: "token", token, login: "bench" },
  revokers: createRevokers({}),
  rules: loadRules([]),
  sessionKey: randomBytes(32),
  secureCookies: false,
});
const times = new Map();
const server = createServer((req, res) => {
  const started = process.hrtime.bigint();
  res.on("finish", () => {
    const list = times.get(req.url) ?? [];
    list.push(Number(process.hrtime.bigint() - started) / 1e6);
    times.set(req.url, list);
  });
  consoleServer.handle(req, res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const login = await fetch(`${base}/console/login?token=${token}`, { redirect: "manual" });
const cookie = login.headers.getSetCookie()[0].split(";")[0];

const PAGES = [
  ["findings list, newest first", "/console/findings"],
  [
    "findings: open, github, sorted by severity",
    "/console/findings?status=open&provider=github&sort=severity",
  ],
  [
    "findings: one repository, one month",
    "/console/findings?repository=acme%2Frepo-7&from=2020-03-01&to=2020-03-31",
  ],
  ["findings: page 1,000 (deep offset)", "/console/findings?page=1000"],
  ["overview", "/console/"],
  ["CSV export of all 100,000 findings", "/console/findings.csv"],
];
console.log(
  `\nconsole: server time with ${FINDINGS.toLocaleString("en")} findings, median of ${RUNS} requests`,
);
for (const [label, path] of PAGES) {
  for (let i = 0; i <= RUNS; i++) {
    const res = await fetch(`${base}${path}`, { headers: { cookie } });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    await res.text();
  }
  // The first request warms the statement cache and the page cache; it is not counted.
  const ms = median(times.get(path).slice(1));
  console.log(`${label.padEnd(46)} ${ms.toFixed(1).padStart(7)} ms`);
}
server.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
