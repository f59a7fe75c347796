// Exports read the findings in batches with no statement left open between them: a slow download must not
// keep the shared connection busy, or every write (a revocation, a triage) would fail meanwhile.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportCsv, parseFindingsQuery } from "../../src/console/pages/findings.js";
import { openStore } from "../../src/store/index.js";
import { scanText } from "../revoke/harness.js";
import { tempDir } from "../support/cli.js";
import { tokens } from "../support/tokens.js";

const dir = tempDir("leakwarden-export-");
afterAll(dir.remove);

describe("a findings export", () => {
  it("lets the store write between its batches, and holds every match once in order", async () => {
    const store = await openStore({ path: join(dir.path, "e.db"), env: {} });
    const gen = tokens(11);
    const values = Array.from({ length: 5 }, () => gen.githubPat());
    for (const f of scanText(values.join("\n"))) await store.findings.record(f, "acme/api");
    const batches = store.findings.each({ source: "acme/api" }, "oldest", 2);
    const first = (await batches.next()).value ?? [];
    // A write while the export is half-way: it must not find the connection busy.
    expect((await store.findings.resolve(5, "accepted-risk", "mid-export"))?.status).toBe("resolved");
    const rest = [];
    for await (const batch of batches) rest.push(...batch);
    expect([...first, ...rest].map((f) => f.id)).toEqual([1, 2, 3, 4, 5]);
    let csv = "";
    for await (const chunk of exportCsv(
      store,
      parseFindingsQuery(new URLSearchParams("repository=acme/api")),
    ))
      csv += chunk;
    expect(csv.trim().split("\r\n")).toHaveLength(6);
    for (const value of values) expect(csv).not.toContain(value);
    await store.close();
  });
});
