// Backfill throughput on the local stand-ins: the real `leakwarden serve`, git over HTTP from git http-backend,
// GitHub and Azure DevOps stand-ins. Writes a history of N commits (default 5,000) on 4 branches with a tag each,
// 3 of them leaking a registered Azure DevOps PAT, into the served repository; sends the signed `installation`
// webhook; times webhook → backfill done (fetch, scan, record), → every revocation and → the summary issue.
// Prints commits/s. Run: npm run build && node bench/backfill.js [COMMITS]
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { INSTALLATION, REPOSITORY, startScenario } from "../dist/demo/scenario.js";
import { Registry } from "../dist/registry/registry.js";
import { SAMPLE_FORMATS, SeededRandom } from "../dist/scan/samples.js";
import { Secret } from "../dist/scan/secret.js";
import { openStore } from "../dist/store/index.js";

const commits = Number(process.argv[2] ?? 5000);
const BRANCHES = 4;

/** A fast-import stream: BRANCHES branches of commits/BRANCHES commits each, a file changed per commit. */
function history(leaks) {
  const lines = [];
  const perBranch = Math.ceil(commits / BRANCHES);
  let mark = 0;
  const at = 1_700_000_000;
  for (let b = 0; b < BRANCHES; b++) {
    const branch = b === 0 ? "main" : `branch-${b}`;
    for (let i = 0; i < perBranch; i++) {
      mark++;
      const leak = leaks.find((l) => l.branch === b && l.index === i);
      const text = `// module ${i} of ${branch}\nexport const value${i} = ${i * 7};\n${leak ? `const PAT = "${leak.pat}";\n` : ""}`;
      const data = Buffer.from(text);
      lines.push(
        `commit refs/heads/${branch}`,
        `mark :${mark}`,
        `committer Bench <bench@example.com> ${at + mark} +0000`,
        `data ${`commit ${mark}`.length}`,
        `commit ${mark}`,
        ...(i === 0 && b > 0 ? ["from refs/heads/main^0"] : []),
        `M 100644 inline src/${branch}/file${i % 200}.js`,
        `data ${data.length}`,
        text,
      );
    }
    lines.push(
      `tag v${b}`,
      `from refs/heads/${branch}`,
      `tagger Bench <bench@example.com> ${at} +0000`,
      "data 3",
      "tag",
    );
  }
  return `${lines.join("\n")}\n`;
}

async function fastImport(repo, stream) {
  await new Promise((resolve, reject) => {
    const git = spawn("git", ["fast-import", "--quiet", "--force"], {
      cwd: repo,
      stdio: ["pipe", "ignore", "inherit"],
    });
    git.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`))));
    git.stdin.end(stream);
  });
}

const scenario = await startScenario();
try {
  const rng = new SeededRandom(Date.now() % 2 ** 31);
  const mint = SAMPLE_FORMATS["azure-devops-pat"];
  const perBranch = Math.ceil(commits / BRANCHES);
  const leaks = [0, 1, 3].map((branch, n) => ({
    branch,
    index: Math.floor((perBranch * (n + 1)) / 4),
    pat: mint(rng),
    authorizationId: randomUUID(),
  }));
  const store = await openStore({ path: scenario.env.LEAKWARDEN_DB, env: {} });
  const registry = new Registry(store);
  for (const leak of leaks)
    await registry.add(new Secret(leak.pat), {
      provider: "azure-devops",
      org: "contoso",
      authorizationId: leak.authorizationId,
    });
  await store.close();
  const served = join(scenario.dir, "served", "acme", "app.git");
  await fastImport(served, history(leaks));

  const started = Date.now();
  await scenario.deliver("installation", {
    action: "created",
    installation: { id: INSTALLATION, account: { login: "acme", id: 2, type: "Organization" } },
    repositories: [{ id: 1, name: "app", full_name: REPOSITORY, private: true }],
    sender: { login: "bench", id: 3, type: "User" },
  });
  const health = async () =>
    (await (await fetch(`${scenario.appUrl}/healthz`)).json()).queue.backfill.repositories;
  let done;
  while (!done) {
    const h = await health();
    if (h.done + h.failed >= 1) done = { ...h, at: Date.now() };
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const revoked = await scenario.until(
    "the revocations",
    () =>
      leaks.every((l) => scenario.ado.requests.some((r) => r.body.includes(l.authorizationId))) && Date.now(),
    600_000,
  );
  const issue = await scenario.until(
    "the summary issue",
    () => scenario.github.issues[0] && Date.now(),
    600_000,
  );
  const scanSeconds = (done.at - started) / 1000;
  console.log(
    JSON.stringify(
      {
        commits: done.commitsScanned,
        failed: done.failed,
        backfillSeconds: Number(scanSeconds.toFixed(2)),
        commitsPerSecond: Math.round(done.commitsScanned / scanSeconds),
        webhookToLastRevocationSeconds: Number(((revoked - started) / 1000).toFixed(2)),
        webhookToIssueSeconds: Number(((issue - started) / 1000).toFixed(2)),
        findingsInIssue: (scenario.github.issues[0]?.body.match(/\| `azure-devops-pat` \|/g) ?? []).length,
      },
      null,
      2,
    ),
  );
} finally {
  await scenario.stop();
}
