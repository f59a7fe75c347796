// SARIF 2.1.0, as GitHub code scanning reads it: rules with a security-severity, results with
// partialFingerprints so that alerts survive line moves, and relative artifact URIs.
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import type { Rule } from "../scan/rules.js";
import type { Finding, Severity } from "../scan/types.js";
import { HOMEPAGE } from "../version.js";
import type { RunInfo } from "./run-info.js";

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/** GitHub maps security-severity to critical (9.0+), high (7.0+), medium (4.0+) and low. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.0",
  low: "2.0",
};
const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
};

/**
 * Paths inside the working folder become URIs relative to %SRCROOT% (what code scanning expects when the scan
 * runs at the repository root); others become absolute file: URIs.
 */
function artifactLocation(path: string): { uri: string; uriBaseId?: string } {
  if (isAbsolute(path)) return { uri: pathToFileURL(path).href };
  return { uri: path.split("/").map(encodeURIComponent).join("/"), uriBaseId: "%SRCROOT%" };
}

/** `extra` adds properties to each result: registry match, revocation, live check. */
export function renderSarif(
  findings: readonly Finding[],
  rules: readonly Rule[],
  run: RunInfo,
  extra?: (finding: Finding) => Record<string, unknown>,
): string {
  const used = rules.filter((r) => findings.some((f) => f.ruleId === r.id));
  const index = new Map(used.map((r, i) => [r.id, i]));
  const sarif = {
    $schema: SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "leakwarden",
            version: run.version,
            semanticVersion: run.version,
            informationUri: HOMEPAGE,
            properties: { ruleSetVersion: run.ruleSet.version, ruleCount: run.ruleSet.rules },
            rules: used.map((r) => ({
              id: r.id,
              name: r.id
                .split("-")
                .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
                .join(""),
              shortDescription: { text: r.description },
              fullDescription: { text: `${r.description} (${r.provider}).` },
              help: {
                text: "Revoke the token at its provider, then replace it. Removing it from the code does not undo the leak.",
              },
              defaultConfiguration: { level: LEVEL[r.severity] },
              properties: {
                tags: ["security", "secret", r.provider],
                "security-severity": SECURITY_SEVERITY[r.severity],
              },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: index.get(f.ruleId) ?? 0,
          level: LEVEL[f.severity],
          message: {
            text: `${f.description}: ${f.redacted} (${f.confidence} confidence${f.encoding === "plain" ? "" : `, found in ${f.encoding}`}).`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: artifactLocation(f.file),
                region: {
                  startLine: f.line,
                  startColumn: f.column,
                  endLine: f.endLine,
                  endColumn: f.endColumn,
                },
              },
            },
          ],
          partialFingerprints: { "leakwarden/v1": f.fingerprint },
          properties: {
            confidence: f.confidence,
            encoding: f.encoding,
            secretHash: f.secretHash,
            ...(f.commit ? { commit: f.commit } : {}),
            ...extra?.(f),
          },
        })),
        columnKind: "unicodeCodePoints",
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: run.startedAt,
            endTimeUtc: run.endedAt,
            properties: { targets: run.targets },
          },
        ],
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
