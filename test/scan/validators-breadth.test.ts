// Checksums added for the wider rule set: Microsoft identifiable keys and CASK keys, Entra ID client secrets,
// Atlassian CRC-32, GitLab routable tokens of every prefix, and JWT role claims.
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32Hex, isValidAtlassianToken } from "../../src/scan/validators/crc32-hex.js";
import { VALIDATORS } from "../../src/scan/validators/index.js";
import { isServiceRoleJwt } from "../../src/scan/validators/jwt.js";
import { marvin32 } from "../../src/scan/validators/marvin32.js";
import { entraChecksum, isValidEntraClientSecret, seedOf } from "../../src/scan/validators/microsoft.js";
import { tokens } from "../support/tokens.js";

const SEEDS = Array.from({ length: 10 }, (_, i) => 2000 + i);

/** Every one-character change of `token` inside its first `upTo` characters, to another of `alphabet`. */
function mutations(token: string, alphabet: string, upTo = token.length): string[] {
  const out: string[] = [];
  for (let i = 0; i < upTo; i++) {
    const other = alphabet[(alphabet.indexOf(token[i] as string) + 1) % alphabet.length] as string;
    if (other !== token[i]) out.push(token.slice(0, i) + other + token.slice(i + 1));
  }
  return out;
}

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("published test vectors", () => {
  it("CRC-32 check value: 123456789 gives cbf43926", () => expect(crc32Hex("123456789")).toBe("cbf43926"));
  it("Marvin32 of 'abc' with SymCrypt's seed", () => {
    // SymCrypt's 64-bit result 0x22c74339492769bf folds (p0 ^ p1) to 0x6be02a86.
    expect(marvin32(Buffer.from("abc"), 0xd53cd9cecd0893b7n)).toBe((0x22c74339 ^ 0x492769bf) >>> 0);
  });
  it("checksum seeds are the ASCII names security-utilities gives them", () => {
    expect(seedOf("Default0")).toBe(0x44656661756c7430n);
    expect(seedOf("AadPwd00")).toBe(0x4161645077643030n);
    expect(seedOf("ACRDflt0")).toBe(0x41435244666c7430n);
  });
});

const FORMATS: [format: string, validator: string, alphabet: string][] = [
  ["azure-cognitive-services-key", "azure-cask", ALNUM],
  ["azure-event-grid-key", "azure-cask", ALNUM],
  ["azure-app-configuration-key", "azure-cask", ALNUM],
  ["azure-communication-services-key", "azure-cask", ALNUM],
  ["azure-maps-key", "azure-cask", ALNUM],
  ["azure-fluid-relay-key", "azure-cask", ALNUM],
  ["azure-mixed-reality-key", "azure-cask", ALNUM],
  ["azure-sql-key", "azure-cask", ALNUM],
  ["azure-storage-identifiable-key", "azure-storage-identifiable", ALNUM],
  ["azure-cosmos-db-identifiable-key", "azure-cosmos-db-identifiable", ALNUM],
  ["azure-service-bus-identifiable-key", "azure-service-bus-identifiable", ALNUM],
  ["azure-event-hubs-identifiable-key", "azure-event-hubs-identifiable", ALNUM],
  ["azure-relay-identifiable-key", "azure-relay-identifiable", ALNUM],
  ["azure-functions-identifiable-key", "azure-functions-identifiable", ALNUM],
  ["azure-apim-identifiable-key", "azure-apim-identifiable", ALNUM],
  ["azure-search-identifiable-key", "azure-search-identifiable", ALNUM],
  ["azure-redis-identifiable-key", "azure-redis-identifiable", ALNUM],
  ["azure-container-registry-identifiable-key", "azure-container-registry-identifiable", ALNUM],
  ["azure-iot-identifiable-key", "azure-iot-identifiable", ALNUM],
  ["azure-batch-identifiable-key", "azure-batch-identifiable", ALNUM],
  ["azure-ml-classic-identifiable-key", "azure-ml-classic-identifiable", ALNUM],
  ["entra-client-secret", "entra-client-secret", ALNUM],
  ["atlassian-api-token", "atlassian-crc32", ALNUM],
  ["bitbucket-access-token", "atlassian-crc32", ALNUM],
  ["gitlab-runner-token-routable", "gitlab-routable-crc32", ALNUM],
  ["gitlab-deploy-token-routable", "gitlab-routable-crc32", ALNUM],
];

describe.each(SEEDS)("generated tokens (seed %i)", (seed) => {
  const t = tokens(seed);
  it.each(FORMATS)("%s: %s holds, and no one-character change keeps it", (format, name, alphabet) => {
    const validate = VALIDATORS[name];
    if (!validate) throw new Error(`no validator ${name}`);
    const token = t.make(format);
    expect(validate(token)).toBe(true);
    // Identifiable keys carry no checksum over their padding; change everything else.
    const checked = token.replace(/=+$/, "").length;
    for (const changed of mutations(token, alphabet, checked)) expect(validate(changed)).toBe(false);
  });
});

describe("format details", () => {
  it("an identifiable key with another family's signature fails", () => {
    const key = tokens(1).make("azure-service-bus-identifiable-key");
    expect(VALIDATORS["azure-event-hubs-identifiable"]?.(key)).toBe(false);
    expect(VALIDATORS["azure-service-bus-identifiable"]?.(key)).toBe(true);
  });
  it("a CASK key with the Azure DevOps signature is not an 'other Azure service' key", () => {
    expect(VALIDATORS["azure-cask"]?.(tokens(2).adoPat())).toBe(false);
  });
  it("Entra: only the first 3 of the 6 checksum digits are kept, and 7Q~ secrets carry none", () => {
    const secret = tokens(3).make("entra-client-secret");
    expect(secret.slice(3, 6)).toBe("8Q~");
    expect(entraChecksum(secret.slice(0, -3))).toBe(secret.slice(-3));
    expect(isValidEntraClientSecret(`${secret.slice(0, 3)}7Q~${secret.slice(6)}`)).toBe(false);
  });
  it("Atlassian: the checksum covers the '=' and is upper-case hex", () => {
    const token = tokens(4).make("atlassian-api-token");
    const head = token.slice(0, -8);
    expect(head.endsWith("=")).toBe(true);
    expect(token.slice(-8)).toBe((crc32(head) >>> 0).toString(16).padStart(8, "0").toUpperCase());
    expect(isValidAtlassianToken(head + token.slice(-8).toLowerCase())).toBe(false);
  });
  it("JWT: a service_role claim passes, an anon one does not", () => {
    const jwt = tokens(5).make("supabase-service-role-jwt");
    expect(isServiceRoleJwt(jwt)).toBe(true);
    const [header, , signature] = jwt.split(".");
    const anon = Buffer.from('{"iss":"supabase","role":"anon"}').toString("base64url");
    expect(isServiceRoleJwt(`${header}.${anon}.${signature}`)).toBe(false);
    expect(isServiceRoleJwt("not.a.jwt")).toBe(false);
  });
});
