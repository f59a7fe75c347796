// `leakwarden registry add|import|list|remove|mint|audit`: the tokens the organisation issued, by hash.
import { readFileSync } from "node:fs";
import { fileProblem } from "../errors.js";
import { DateError, parseDate, parseLifetimeDays } from "../registry/dates.js";
import { auditRegistry, type Problem } from "../registry/hygiene.js";
import { MAX_LIFETIME_DAYS, mintAndRegister } from "../registry/mint.js";
import { parseScopes, Registry, type TokenMetadata } from "../registry/registry.js";
import { providerSettings } from "../revoke/settings.js";
import type { TokenRecord } from "../store/tokens.js";
import { type Command, type Io, parseFlags, UsageError } from "./command.js";
import { readToken, TOKEN_ENV_FLAG } from "./secret-input.js";
import { DB_FLAG, DB_HELP, openCliStore, parseId, shortTime, withStore } from "./store-access.js";
import { colorEnabled, plural, type Style, style, table } from "./terminal.js";

const HELP = `Usage: leakwarden registry <action> [options]

The registry holds the tokens your organisation issued, as SHA-256 hashes with
a redacted preview: never their values. A scan matches what it finds against
it, and revokes matches: Azure DevOps can revoke a PAT only by the
authorization id that the registry keeps next to the hash.

Actions
  add                 register one token, read from stdin or --token-env
                      (never from the command line, where shell history and
                      ps would keep it); it must be a format the rules know
  import FILE         register tokens from JSON Lines, one object per line:
                      {"token": "...", "provider", "org", "authorizationId",
                      "owner", "name", "scopes", "expires", "created", "allOrgs"}
                      all or nothing; re-importing updates the metadata
  list                the registered tokens (previews, never values)
  remove ID           forget a token
  mint                create an Azure DevOps PAT through the PAT lifecycle API
                      (LEAKWARDEN_ADO_TOKEN: a Microsoft Entra access token),
                      register it, and print it once on stdout
  audit               hygiene report: expired, full access, global (all
                      organisations; they stop working on 1 December 2026),
                      not revocable, expiring within 7 days, older than 90
                      days; exits 1 when there is a problem

Options for add (and, per line, import)
  --provider P        azure-devops, github, gitlab, ... (default: from the format)
  --org ORG           Azure DevOps organisation
  --authorization-id UUID
                      Azure DevOps authorization id: what revocation needs
  --owner WHO         --name NAME       --scopes "vso.code vso.build"
  --expires DATE      2026-12-31 (valid through that day) or an ISO date-time
  --created DATE      when it was issued (default: now), for the age check
  --all-orgs          an Azure DevOps global PAT
  --token-env VAR     read the token from environment variable VAR
  --force             register a value that no rule recognises (then
                      --provider is needed) or whose checksum fails

Options for mint
  --org ORG  --name NAME  --scopes "vso.code"  [--owner WHO]
  --expires-in LIFE   30d (default), 4w, 6m, 1y; at most one year
  --allow-full-scope  permit --scopes app_token (full access)

Common options
  --json              machine-readable output (list, audit, add, import)
${DB_HELP}

Examples
  leakwarden registry add --org contoso --authorization-id 7f3e9c4a-1b2d-4e5f-8a9b-0c1d2e3f4a5b \\
      --owner alice --name build-agent --expires 2027-03-31 < pat.txt
  AZ_PAT=... leakwarden registry add --token-env AZ_PAT --org contoso --authorization-id ...
  leakwarden registry import tokens.jsonl
  leakwarden registry list
  export LEAKWARDEN_ADO_TOKEN=$(az account get-access-token \\
      --resource 499b84ac-1321-427f-aa17-267ca6975798 --query accessToken -o tsv)
  PAT=$(leakwarden registry mint --org contoso --name deploy --scopes "vso.code" --expires-in 30d)
  leakwarden registry audit --json
`;

const FLAGS = {
  provider: { type: "string" },
  org: { type: "string" },
  "authorization-id": { type: "string" },
  owner: { type: "string" },
  name: { type: "string" },
  scopes: { type: "string" },
  expires: { type: "string" },
  created: { type: "string" },
  "all-orgs": { type: "boolean" },
  force: { type: "boolean" },
  "expires-in": { type: "string" },
  "allow-full-scope": { type: "boolean" },
  json: { type: "boolean" },
  ...TOKEN_ENV_FLAG,
  ...DB_FLAG,
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>["values"];

/** Flags that only some actions take: giving one to another action is a mistake worth pointing out. */
const ACTION_FLAGS: Record<string, readonly (keyof Values)[]> = {
  add: [
    "provider",
    "org",
    "authorization-id",
    "owner",
    "name",
    "scopes",
    "expires",
    "created",
    "all-orgs",
    "force",
    "token-env",
    "json",
  ],
  import: ["force", "json"],
  list: ["json"],
  remove: [],
  mint: ["provider", "org", "name", "scopes", "owner", "expires-in", "allow-full-scope"],
  audit: ["json"],
};

function checkFlags(action: string, values: Values): void {
  const allowed = ACTION_FLAGS[action] ?? [];
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined || flag === "db" || flag === "help") continue;
    if (!allowed.includes(flag as keyof Values))
      throw new UsageError(`--${flag} does not apply to "registry ${action}"`, "registry");
  }
}

function metadata(values: Values): TokenMetadata {
  try {
    return {
      provider: values.provider,
      org: values.org,
      authorizationId: values["authorization-id"],
      owner: values.owner,
      name: values.name,
      scopes: values.scopes === undefined ? undefined : parseScopes(values.scopes),
      expiresAt: values.expires === undefined ? undefined : parseDate(values.expires, "--expires", true),
      createdAt: values.created === undefined ? undefined : parseDate(values.created, "--created"),
      allOrgs: values["all-orgs"],
    };
  } catch (error) {
    if (error instanceof DateError) throw new UsageError(error.message, "registry");
    throw error;
  }
}

function publicToken(t: TokenRecord) {
  return {
    id: t.id,
    provider: t.provider,
    preview: t.preview,
    secretHash: t.secretHash,
    ruleId: t.ruleId,
    org: t.org,
    authorizationId: t.authorizationId,
    owner: t.owner,
    name: t.name,
    scopes: t.scopes,
    allOrgs: t.allOrgs,
    minted: t.minted,
    createdAt: t.createdAt,
    expiresAt: t.expiresAt,
    registeredAt: t.registeredAt,
    revokedAt: t.revokedAt,
  };
}

function tokenState(t: TokenRecord, now: Date, s: Style): string {
  if (t.revokedAt) return s.dim(`revoked ${shortTime(t.revokedAt)}`);
  if (t.expiresAt && new Date(t.expiresAt) <= now) return s.dim("expired");
  return s.green("active");
}

function describe(t: TokenRecord): string {
  const who = [t.name, t.owner && `owner ${t.owner}`, t.org && `org ${t.org}`].filter(Boolean).join(", ");
  return `#${t.id} ${t.provider} ${t.preview}${who ? ` (${who})` : ""}`;
}

function listTokens(tokens: readonly TokenRecord[], now: Date, s: Style): string {
  if (tokens.length === 0)
    return "No registered tokens. Add one with 'leakwarden registry add' (see --help).\n";
  const rows = [
    ["ID", "PROVIDER", "TOKEN", "NAME", "OWNER", "ORG", "SCOPES", "EXPIRES", "STATUS"].map(s.bold),
  ];
  for (const t of tokens)
    rows.push([
      String(t.id),
      t.provider,
      t.preview,
      t.name ?? "-",
      t.owner ?? "-",
      t.org ?? "-",
      t.scopes.length ? t.scopes.join(" ") : "-",
      t.expiresAt ? t.expiresAt.slice(0, 10) : "-",
      tokenState(t, now, s),
    ]);
  return `${table(rows)}\n`;
}

const CHECK_TITLES: Record<Problem["check"], string> = {
  "full-scope": "full access",
  "all-orgs": "global PAT",
  "not-revocable": "not revocable",
  "expiring-soon": "expiring soon",
  old: "old",
  expired: "expired",
};

function renderAudit(problems: readonly Problem[], tokens: number, s: Style): string {
  const header = `${plural(tokens, "registered token")}, ${plural(problems.length, "problem")}`;
  if (problems.length === 0) return `${s.green("Registry hygiene: no problems")} (${header}).\n`;
  const rows = [["CHECK", "TOKEN", "WHAT TO DO"].map(s.bold)];
  for (const p of problems) {
    const title = CHECK_TITLES[p.check];
    const colored = ["full-scope", "all-orgs", "not-revocable"].includes(p.check)
      ? s.red(title)
      : s.yellow(title);
    rows.push([colored, describe(p.token), p.detail]);
  }
  return `${s.bold("Registry hygiene")}: ${header}\n\n${table(rows)}\n`;
}

async function mint(values: Values, io: Io): Promise<number> {
  if (values.provider !== undefined && values.provider !== "azure-devops")
    throw new UsageError(
      `registry mint creates Azure DevOps PATs only, not ${values.provider} tokens`,
      "registry",
    );
  for (const required of ["org", "name", "scopes"] as const)
    if (!values[required]) throw new UsageError(`registry mint needs --${required}`, "registry");
  let lifetimeDays: number;
  try {
    lifetimeDays = parseLifetimeDays(values["expires-in"] ?? "30d", "--expires-in");
  } catch (error) {
    throw new UsageError((error as Error).message, "registry");
  }
  if (lifetimeDays > MAX_LIFETIME_DAYS)
    throw new UsageError(
      `a PAT lives at most one year (${MAX_LIFETIME_DAYS} days); ask for less`,
      "registry",
    );
  const settings = providerSettings(io.env);
  return withStore(await openCliStore(values, io, { create: true }), async (store) => {
    const { minted, token } = await mintAndRegister(
      new Registry(store),
      {
        org: values.org as string,
        name: values.name as string,
        scopes: parseScopes(values.scopes as string),
        lifetimeDays,
        allowFullScope: values["allow-full-scope"],
        owner: values.owner,
      },
      settings,
      store.clock(),
    );
    // The only time leakwarden ever prints a token: alone on stdout, so that $(...) captures exactly it.
    io.stdout.write(`${minted.token.reveal()}\n`);
    io.stderr.write(
      `leakwarden: minted and registered ${describe(token)}, authorization ${minted.authorizationId}, valid until ${shortTime(minted.validTo)}. This is the only time the token is shown.\n`,
    );
    return 0;
  });
}

export const registryCommand: Command = {
  name: "registry",
  help: HELP,
  async run(args, io) {
    const [action, ...rest] = args;
    if (action === undefined || action.startsWith("-"))
      throw new UsageError("name an action: add, import, list, remove, mint or audit", "registry");
    if (!(action in ACTION_FLAGS))
      throw new UsageError(
        `unknown action "${action}"; use add, import, list, remove, mint or audit`,
        "registry",
      );
    const { values, positionals } = parseFlags("registry", rest, FLAGS);
    checkFlags(action, values);
    const s = style(colorEnabled(io.stdout));
    const expectArgs = (n: number, what: string) => {
      if (positionals.length < n) throw new UsageError(`registry ${action} needs ${what}`, "registry");
      if (positionals.length > n) throw new UsageError(`unexpected argument "${positionals[n]}"`, "registry");
    };

    switch (action) {
      case "add": {
        expectArgs(0, "");
        const meta = metadata(values);
        const secret = await readToken(values, io, "registry add");
        return await withStore(await openCliStore(values, io, { create: true }), async (store) => {
          const { token, warnings } = await new Registry(store).add(secret, meta, { force: values.force });
          for (const w of warnings) io.stderr.write(`leakwarden registry: warning: ${w}\n`);
          io.stdout.write(
            values.json
              ? `${JSON.stringify(publicToken(token), null, 2)}\n`
              : `registered ${describe(token)}\n`,
          );
          return 0;
        });
      }
      case "import": {
        expectArgs(1, "a file (JSON Lines)");
        const file = positionals[0] as string;
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (error) {
          throw new UsageError(`cannot read "${file}": ${fileProblem(error)}`, "registry");
        }
        return await withStore(await openCliStore(values, io, { create: true }), async (store) => {
          const result = await new Registry(store).importJsonLines(text, { force: values.force });
          for (const w of result.warnings) io.stderr.write(`leakwarden registry: warning: ${w}\n`);
          io.stdout.write(
            values.json
              ? `${JSON.stringify({ added: result.added, updated: result.updated }, null, 2)}\n`
              : `imported ${plural(result.added + result.updated, "token")} from ${file}: ${result.added} added, ${result.updated} updated\n`,
          );
          return 0;
        });
      }
      case "list": {
        expectArgs(0, "");
        return await withStore(await openCliStore(values, io, { create: false }), async (store) => {
          const tokens = await new Registry(store).list();
          io.stdout.write(
            values.json
              ? `${JSON.stringify(tokens.map(publicToken), null, 2)}\n`
              : listTokens(tokens, store.clock(), s),
          );
          return 0;
        });
      }
      case "remove": {
        expectArgs(1, "the token's ID (see 'leakwarden registry list')");
        const id = parseId(positionals[0], "ID", "registry");
        return await withStore(await openCliStore(values, io, { create: false }), async (store) => {
          const token = await new Registry(store).remove(id);
          io.stdout.write(`removed ${describe(token)}\n`);
          return 0;
        });
      }
      case "mint":
        expectArgs(0, "");
        return await mint(values, io);
      default: {
        expectArgs(0, "");
        return await withStore(await openCliStore(values, io, { create: false }), async (store) => {
          const tokens = await store.tokens.list();
          const now = store.clock();
          const problems = auditRegistry(tokens, now);
          if (values.json) {
            const report = {
              checkedAt: now.toISOString(),
              tokens: tokens.length,
              problems: problems.map((p) => ({
                check: p.check,
                detail: p.detail,
                token: publicToken(p.token),
              })),
            };
            io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          } else io.stdout.write(renderAudit(problems, tokens.length, s));
          return problems.length > 0 ? 1 : 0;
        });
      }
    }
  },
};
