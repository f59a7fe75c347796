// The README's "What it finds" table, generated from the rules so that it cannot drift from them.
import type { Rule } from "./rules.js";

/** How each checksum validator confirms a match, in the table's words. */
const CONFIRMED_BY: Readonly<Record<string, string>> = {
  "azure-devops-pat": "Marvin32 checksum (CASK)",
  "azure-devops-pat-legacy": "CRC-32 checksum XOR seed",
  "azure-cask": "Marvin32 checksum (CASK)",
  "entra-client-secret": "Marvin32 checksum (3 characters)",
  "github-crc32": "CRC-32 checksum (base62)",
  "npm-crc32": "CRC-32 checksum (base62)",
  "gitlab-routable-crc32": "CRC-32 checksum (base36) and length",
  "atlassian-crc32": "CRC-32 checksum (hex)",
  "jwt-service-role": "decoded JWT claims (`role: service_role`)",
};

export const TABLE_START = "<!-- rules-table:start (npm run rules:table) -->";
export const TABLE_END = "<!-- rules-table:end -->";

function confirmation(rule: Rule): string {
  if (rule.validator) return CONFIRMED_BY[rule.validator] ?? "Marvin32 checksum (identifiable key)";
  const parts = ["structure"];
  if (rule.context?.required) parts.push(`a nearby word (${rule.context.words.slice(0, 2).join(", ")})`);
  else if (rule.context) parts.push("context raises confidence");
  if (rule.entropy !== undefined) parts.push("entropy");
  return parts.join(", ");
}

function revocable(rule: Rule): string {
  if (rule.revoke) return `yes: \`leakwarden revoke\` (${rule.revoke})`;
  return `no; ${rule.revocation ?? "nothing can revoke it yet"}`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** One row per rule, ordered by provider then id. */
export function rulesMarkdown(rules: readonly Rule[]): string {
  const rows = [...rules]
    .sort((a, b) => a.provider.localeCompare(b.provider) || a.id.localeCompare(b.id))
    .map((r) =>
      [r.provider, `\`${r.id}\`: ${r.description}`, confirmation(r), r.severity, revocable(r)].map(cell),
    );
  const header = ["Provider", "What it matches", "How it is confirmed", "Severity", "Revocable"];
  return [header, header.map(() => "---"), ...rows].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

/** `readme` with the text between the table markers replaced by `table`; throws when a marker is missing. */
export function withRulesTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start)
    throw new Error(`the README has no "${TABLE_START}" ... "${TABLE_END}" block`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
