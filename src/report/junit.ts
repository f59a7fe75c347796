// JUnit XML, as CI dashboards read it: one test case per finding, failed; a clean scan is one passing case,
// so that the dashboard shows the check ran.
import type { ScanStats } from "../scan/run.js";
import type { Finding } from "../scan/types.js";
import type { RunInfo } from "./run-info.js";
import { escapeMarkup as x } from "./xml.js";

function testCase(f: Finding): string {
  const where = `${f.file}:${f.line}:${f.column}${f.commit ? ` @${f.commit.slice(0, 12)}` : ""}`;
  const details = [
    `${f.description}: ${f.redacted}`,
    `severity: ${f.severity}, confidence: ${f.confidence}, encoding: ${f.encoding}`,
    `file: ${f.file}, line ${f.line}, column ${f.column}`,
    ...(f.commit ? [`commit: ${f.commit} by ${f.author ?? "?"} on ${f.date ?? "?"}`] : []),
    `fingerprint: ${f.fingerprint}`,
    "Revoke the token at its provider, then replace it. Removing it from the code does not undo the leak.",
  ].join("\n");
  return `    <testcase classname="${x(`leakwarden.${f.ruleId}`)}" name="${x(where)}" file="${x(f.file)}" time="0">
      <failure type="${x(f.severity)}" message="${x(`Leaked ${f.provider} token: ${f.redacted}`)}">${x(details)}</failure>
    </testcase>`;
}

export function renderJunit(findings: readonly Finding[], stats: ScanStats, run: RunInfo): string {
  const seconds = (stats.durationMs / 1000).toFixed(3);
  const cases =
    findings.length > 0
      ? findings.map(testCase)
      : [`    <testcase classname="leakwarden" name="no leaked secrets" time="${seconds}"/>`];
  const tests = Math.max(findings.length, 1);
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="leakwarden" tests="${tests}" failures="${findings.length}" errors="0" time="${seconds}">
  <testsuite name="leakwarden" tests="${tests}" failures="${findings.length}" errors="0" skipped="0" time="${seconds}" timestamp="${x(run.startedAt.slice(0, 19))}" hostname="localhost">
    <properties>
      <property name="version" value="${x(run.version)}"/>
      <property name="ruleSet" value="${x(run.ruleSet.version)}"/>
      <property name="targets" value="${x(run.targets.join(" "))}"/>
    </properties>
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}
