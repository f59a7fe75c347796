// Synthesises tokens of every format, checksums included, from a seeded generator. Rule examples name them
// as `{{format}}` or `{{format:bad-checksum}}` so that no checksum-valid token is ever written into a file.
import { crc32 } from "node:zlib";
import {
  ADO_LEGACY_SEEDS,
  adoLegacyData,
  adoLegacyPlaceChecksum,
  caskChecksumEncodings,
} from "./validators/azure-devops.js";
import { crc32Hex } from "./validators/crc32-hex.js";
import { BASE62_DIGITS, encodeBase32Lower } from "./validators/encoding.js";
import { githubChecksum } from "./validators/github.js";
import { gitlabChecksum } from "./validators/gitlab.js";
import {
  entraChecksum,
  IDENTIFIABLE_KEYS,
  type IdentifiableFamily,
  placeIdentifiableChecksum,
  seedOf,
} from "./validators/microsoft.js";

const ALNUM = BASE62_DIGITS;
const UPPER_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const URLSAFE = `${ALNUM}_-`;

/** sfc32: small, fast, and the same sequence for the same seed on every machine. */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  below(n: number): number {
    return this.next() % n;
  }

  chars(alphabet: string, length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[this.below(alphabet.length)];
    return out;
  }

  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.below(256));
  }

  digits(min: number, max: number): string {
    return this.chars("0123456789", min + this.below(max - min + 1));
  }
}

function githubClassic(prefix: string, bodyLength: number) {
  return (rng: SeededRandom) => {
    const body = rng.chars(ALNUM, bodyLength);
    return `${prefix}${body}${githubChecksum(body)}`;
  };
}

/** A legacy CASK key: 52 random characters, `JQQJ99`, date, reserved fields, provider signature, checksum. */
function caskKey(signature: string, providerReserved = "AAAA") {
  return (rng: SeededRandom): string => {
    const year = "ABC"[rng.below(3)];
    const month = "ABCDEFGHIJKL"[rng.below(12)];
    const first80 = `${rng.chars(ALNUM, 52)}JQQJ99${year}${month}ACAAAAAAAAAA${providerReserved}${signature}`;
    return first80 + caskChecksumEncodings(first80).base62;
  };
}

const adoPat = caskKey("AZDO", "AAAS");

/**
 * A Microsoft identifiable key of `byteLength` bytes: random base64 up to the signature, zero bits up to the
 * checksum, then the Marvin32 checksum of the bytes before it (one of the family's seeds).
 */
function identifiableKey(
  family: IdentifiableFamily,
  byteLength: number,
  encoding: "base64" | "url" | "base62" = "base64",
) {
  const { signature, seeds } = IDENTIFIABLE_KEYS[family];
  const make = (rng: SeededRandom): string => {
    const encodedLength = Math.ceil(byteLength / 3) * 4;
    const padding = (3 - (byteLength % 3)) % 3;
    const signatureAt = encodedLength - padding - 10;
    const draft = `${rng.chars(encoding === "base62" ? ALNUM : `${ALNUM}+/`, signatureAt)}${signature}${"A".repeat(6)}${"=".repeat(padding)}`;
    const bytes = Buffer.from(draft, "base64");
    placeIdentifiableChecksum(bytes, seedOf(seeds[rng.below(seeds.length)] as string));
    const key = bytes.toString("base64");
    return encoding === "url" ? key.replace(/\+/g, "-").replace(/\//g, "_") : key;
  };
  // Keys issued in the base62 alphabet only (AI Search) are drawn again until no `+` or `/` appears.
  return (rng: SeededRandom): string => {
    let key = make(rng);
    while (encoding === "base62" && /[+/]/.test(key)) key = make(rng);
    return key;
  };
}

function entraClientSecret(rng: SeededRandom): string {
  const alphabet = `${ALNUM}.-_~`;
  const head = `${rng.chars(alphabet, 3)}8Q~${rng.chars(alphabet, 31)}`;
  return head + entraChecksum(head);
}

function atlassianToken(prefix: string) {
  return (rng: SeededRandom): string => {
    const head = `${prefix}${rng.chars(URLSAFE, 171)}=`;
    return head + crc32Hex(head).toUpperCase();
  };
}

/** A JWT as a known issuer signs it, with a privileged role in the payload. */
function serviceRoleJwt(rng: SeededRandom): string {
  const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url");
  const claims = { iss: "supabase", ref: rng.chars("abcdefghijklmnopqrstuvwxyz", 20), role: "service_role" };
  const payload = Buffer.from(JSON.stringify({ ...claims, iat: 1700000000, exp: 2015000000 })).toString(
    "base64url",
  );
  return `${header}.${payload}.${base64url(rng, 32)}`;
}

function discordBotToken(rng: SeededRandom): string {
  const userId = Buffer.from(`1${rng.chars("0123456789", 17)}`).toString("base64url");
  return `${userId}.${rng.chars(URLSAFE, 6)}.${rng.chars(URLSAFE, 38)}`;
}

function gcpServiceAccount(rng: SeededRandom): string {
  const key = privateKey(rng).replace(/\n/g, "\\n");
  return [
    "{",
    '  "type": "service_account",',
    `  "project_id": "proj-${rng.chars("abcdefghijklmnopqrstuvwxyz", 8)}",`,
    `  "private_key_id": "${rng.chars("0123456789abcdef", 40)}",`,
    `  "private_key": "${key}\\n",`,
    '  "client_email": "ci@proj.iam.gserviceaccount.com"',
    "}",
  ].join("\n");
}

const TEMPLATE_CLASSES: Readonly<Record<string, string>> = {
  a: ALNUM,
  u: URLSAFE,
  h: "0123456789abcdef",
  H: "0123456789ABCDEF",
  d: "0123456789",
  l: "abcdefghijklmnopqrstuvwxyz0123456789",
  U: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  b: `${ALNUM}+/`,
  z: "abcdefghijklmnopqrstuvwxyz234567",
  B: "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
};

/** A token from a template: literal text and `{class:length}` runs of random characters (classes above). */
export function fromTemplate(template: string) {
  return (rng: SeededRandom): string =>
    template.replace(/\{([a-zA-Z]):(\d+)\}/g, (_all, cls: string, length: string) =>
      rng.chars(TEMPLATE_CLASSES[cls] as string, Number(length)),
    );
}

/** Formats without a checksum: literal prefixes and random runs, as each provider documents them. */
const TEMPLATES: Readonly<Record<string, string>> = {
  "azure-storage-account-key": "{b:86}==",
  "azure-shared-access-key": "{b:43}=",
  "azure-sas-signature": "{b:43}=",
  "azure-sas-signature-encoded": "{b:20}%2F{b:22}%3D",
  "heroku-legacy-uuid": "{h:8}-{h:4}-{h:4}-{h:4}-{h:12}",
  "gcp-key-id": "{h:40}",
  "entra-client-secret-legacy": "{a:3}7Q~{u:31}",
  "gitlab-runner-token": "glrt-{u:20}",
  "gitlab-ci-build-token": "glcbt-{a:2}_{u:20}",
  "gitlab-pipeline-trigger-token": "glptt-{h:40}",
  "gitlab-deploy-token": "gldt-{u:20}",
  "gitlab-feed-token": "glft-{u:20}",
  "gitlab-incoming-mail-token": "glimt-{l:25}",
  "gitlab-agent-token": "glagent-{u:50}",
  "gitlab-oauth-app-secret": "gloas-{h:64}",
  "gitlab-scim-token": "glsoat-{u:20}",
  "gitlab-feature-flag-token": "glffct-{u:20}",
  "gitlab-runner-registration-token": "GR1348941{u:20}",
  "gitlab-workspace-token": "glwt-{u:20}",
  "gitlab-session-cookie": "{h:32}",
  "slack-bot-token-legacy": "xoxb-{d:11}-{a:24}",
  "slack-refresh-token": "xoxe-1-{U:146}",
  "slack-config-token": "xoxe.xoxp-1-{U:164}",
  "slack-webhook": "https://hooks.slack.com/services/T{U:10}/B{U:10}/{a:24}",
  "slack-workflow-webhook": "https://hooks.slack.com/workflows/T{U:10}/A{U:10}/{d:18}/{a:32}",
  "openai-project-key": "sk-proj-{u:74}T3BlbkFJ{u:74}",
  "openai-service-account-key": "sk-svcacct-{u:74}T3BlbkFJ{u:74}",
  "openai-admin-key": "sk-admin-{u:58}T3BlbkFJ{u:58}",
  "docker-hub-pat": "dckr_pat_{u:27}",
  "docker-hub-oat": "dckr_oat_{u:32}",
  "bitbucket-app-password": "ATBB{a:32}",
  "vault-service-token": "hvs.CAESI{u:91}",
  "vault-batch-token": "hvb.AAAAAQ{u:150}",
  "vault-recovery-token": "hvr.{u:90}",
  "terraform-cloud-token": "{a:14}.atlasv1.{u:67}",
  "jfrog-api-key": "AKCp{a:69}",
  "jfrog-reference-token": "cmVmdGtuOjAxOj{a:50}",
  "nuget-api-key": "oy2{z:43}",
  "databricks-token": "dapi{h:32}",
  "grafana-service-account-token": "glsa_{a:32}_{h:8}",
  "grafana-cloud-token": "glc_eyJvIjoi{b:100}",
  "grafana-api-key": "eyJrIjoi{a:70}",
  "cloudflare-api-token": "{u:40}",
  "cloudflare-global-api-key": "{h:37}",
  "cloudflare-origin-ca-key": "v1.0-{h:24}-{h:146}",
  "aws-bedrock-api-key": "ABSKQmVkcm9ja0FQSUtleS{b:110}",
  "aws-bedrock-short-term-key": "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t{b:120}",
  "digitalocean-pat": "dop_v1_{h:64}",
  "digitalocean-oauth-token": "doo_v1_{h:64}",
  "digitalocean-refresh-token": "dor_v1_{h:64}",
  "postman-api-key": "PMAK-{h:24}-{h:34}",
  "shopify-access-token": "shpat_{h:32}",
  "shopify-custom-app-token": "shpca_{h:32}",
  "shopify-private-app-token": "shppa_{h:32}",
  "shopify-shared-secret": "shpss_{h:32}",
  "sendgrid-api-key": "SG.{u:22}.{u:43}",
  "sentry-org-token": "sntrys_eyJpYXQiOj{b:120}_{a:43}",
  "sentry-user-token": "sntryu_{h:64}",
  "rubygems-api-key": "rubygems_{h:48}",
  "heroku-api-key": "HRKU-AA{u:58}",
  "twilio-api-key": "SK{h:32}",
  "twilio-auth-token": "{h:32}",
  "mailgun-api-key": "key-{h:32}",
  "mailgun-private-key": "{h:32}-{h:8}-{h:8}",
  "linear-api-key": "lin_api_{a:40}",
  "linear-oauth-token": "lin_oauth_{h:64}",
  "notion-integration-token": "ntn_{d:11}{a:35}",
  "notion-legacy-token": "secret_{a:43}",
  "doppler-personal-token": "dp.pt.{a:43}",
  "doppler-service-token": "dp.st.prd.{a:43}",
  "doppler-service-account-token": "dp.sa.{a:43}",
  "doppler-cli-token": "dp.ct.{a:43}",
  "doppler-scim-token": "dp.scim.{a:43}",
  "doppler-audit-token": "dp.audit.{a:43}",
  "pulumi-access-token": "pul-{h:40}",
  "flyio-token": "fo1_{u:43}",
  "flyio-macaroon": "FlyV1 fm2_{b:200}",
  "supabase-access-token": "sbp_{h:40}",
  "supabase-secret-key": "sb_secret_{u:31}",
  "vercel-access-token": "vcp_{a:56}",
  "vercel-legacy-token": "{a:24}",
  "netlify-token": "nfp_{a:36}",
  "planetscale-service-token": "pscale_tkn_{u:43}",
  "planetscale-password": "pscale_pw_{u:43}",
  "planetscale-oauth-token": "pscale_oauth_{u:43}",
  "square-access-token": "EAAA{u:60}",
  "square-oauth-secret": "sq0csp-{u:43}",
  "square-legacy-access-token": "sq0atp-{u:22}",
  "google-oauth-client-secret": "GOCSPX-{u:28}",
  "telegram-bot-token": "{d:10}:AA{u:33}",
  "discord-webhook": "https://discord.com/api/webhooks/{d:18}/{u:68}",
  "database-password": "{a:20}",
  "huggingface-org-token": "api_org_{a:34}",
  "stripe-webhook-secret": "whsec_{a:32}",
  "age-secret-key": "AGE-SECRET-KEY-1{B:58}",
  "new-relic-user-key": "NRAK-{U:27}",
  "new-relic-insert-key": "NRII-{u:32}",
  "dynatrace-token": "dt0c01.{U:24}.{U:64}",
  "alibaba-access-key-id": "LTAI{a:20}",
  "mapbox-secret-token": "sk.eyJ1Ijoi{a:50}.{u:22}",
  "shippo-live-token": "shippo_live_{h:40}",
  "easypost-api-key": "EZAK{l:54}",
  "flutterwave-secret-key": "FLWSECK-{h:32}-X",
  "typeform-token": "tfp_{u:59}",
  "prefect-api-key": "pnu_{a:36}",
  "readme-api-key": "rdme_{l:70}",
  "clojars-token": "CLOJARS_{l:60}",
  "openrouter-api-key": "sk-or-v1-{h:64}",
  "groq-api-key": "gsk_{a:52}",
  "replicate-api-token": "r8_{a:37}",
  "perplexity-api-key": "pplx-{a:48}",
  "xai-api-key": "xai-{a:80}",
  "langsmith-api-key": "lsv2_pt_{h:32}_{h:10}",
  "buildkite-token": "bkua_{h:40}",
  "circleci-token": "CCIPAT_{a:22}_{h:40}",
  "figma-token": "figd_{u:40}",
  "airtable-pat": "pat{a:14}.{h:64}",
  "sonarqube-token": "squ_{h:40}",
  "octopus-deploy-api-key": "API-{U:26}",
  "onepassword-service-account-token": "ops_eyJzaWduSW5BZGRyZXNzIjoi{b:300}",
  "tailscale-key": "tskey-auth-{a:16}-{a:32}",
  "pinecone-api-key": "pcsk_{a:5}_{a:64}",
};

function adoLegacyPat(rng: SeededRandom): string {
  const bytes = rng.bytes(32);
  adoLegacyPlaceChecksum(bytes, (crc32(adoLegacyData(bytes)) ^ ADO_LEGACY_SEEDS.user) >>> 0);
  return encodeBase32Lower(bytes, rng.below(16));
}

function gitlabRoutable(prefix: string) {
  return (rng: SeededRandom): string => gitlabRoutableToken(prefix, rng);
}

function gitlabRoutableToken(prefix: string, rng: SeededRandom): string {
  const payload = `o:${rng.below(1_000_000).toString(36)}\nu:${rng.below(1_000_000).toString(36)}`;
  const raw = Buffer.concat([
    Buffer.from(rng.bytes(16)),
    Buffer.from(payload),
    Buffer.from([payload.length]),
  ]);
  const encoded = raw.toString("base64url");
  const head = `${prefix}${encoded}.01.${encoded.length.toString(36).padStart(2, "0")}`;
  return head + gitlabChecksum(head);
}

function base64url(rng: SeededRandom, bytes: number): string {
  return Buffer.from(rng.bytes(bytes)).toString("base64url");
}

function privateKey(rng: SeededRandom): string {
  const body = Buffer.from(rng.bytes(1190)).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
}

function pgpPrivateKey(rng: SeededRandom): string {
  const body = Buffer.from(rng.bytes(900)).toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${body}\n-----END PGP PRIVATE KEY BLOCK-----`;
}

export const SAMPLE_FORMATS: Readonly<Record<string, (rng: SeededRandom) => string>> = {
  "azure-devops-pat": adoPat,
  "azure-devops-pat-legacy": adoLegacyPat,
  "github-pat": githubClassic("ghp_", 30),
  "github-oauth-token": githubClassic("gho_", 30),
  "github-user-token": githubClassic("ghu_", 30),
  "github-installation-token": githubClassic("ghs_", 30),
  "github-refresh-token": githubClassic("ghr_", 70),
  "github-fine-grained-pat": (rng) => `github_pat_11${rng.chars(ALNUM, 20)}_${rng.chars(ALNUM, 59)}`,
  "github-installation-token-stateless": (rng) =>
    `ghs_${1 + rng.below(3_000_000)}_eyJ${base64url(rng, 30)}.${base64url(rng, 300)}.${base64url(rng, 64)}`,
  "npm-token": githubClassic("npm_", 30),
  "gitlab-pat": (rng) => `glpat-${rng.chars(URLSAFE, 20)}`,
  "gitlab-pat-routable": gitlabRoutable("glpat-"),
  "gitlab-runner-token-routable": gitlabRoutable("glrt-t1_"),
  "gitlab-deploy-token-routable": gitlabRoutable("gldt-"),
  "slack-bot-token": (rng) => `xoxb-${rng.digits(10, 13)}-${rng.digits(10, 13)}-${rng.chars(ALNUM, 24)}`,
  "slack-user-token": (rng) =>
    `xoxp-${rng.digits(10, 13)}-${rng.digits(10, 13)}-${rng.digits(10, 13)}-${rng.chars("0123456789abcdef", 32)}`,
  "slack-app-token": (rng) =>
    `xapp-1-A${rng.chars(UPPER_B32, 10)}-${rng.digits(12, 13)}-${rng.chars("0123456789abcdef", 64)}`,
  "aws-access-key-id": (rng) => `AKIA${rng.chars(UPPER_B32, 16)}`,
  "aws-secret-access-key": (rng) => rng.chars(`${ALNUM}+/`, 40),
  "google-api-key": (rng) => `AIza${rng.chars(URLSAFE, 35)}`,
  "openai-api-key": (rng) => `sk-${rng.chars(ALNUM, 20)}T3BlbkFJ${rng.chars(ALNUM, 20)}`,
  "anthropic-api-key": (rng) => `sk-ant-api03-${rng.chars(URLSAFE, 93)}AA`,
  "stripe-live-key": (rng) => `sk_live_${rng.chars(ALNUM, 99)}`,
  "huggingface-token": (rng) => `hf_${rng.chars(ALNUM, 34)}`,
  "pypi-token": (rng) => `pypi-AgEIcHlwaS5vcmc${base64url(rng, 120)}`,
  "private-key": privateKey,
  "azure-cognitive-services-key": caskKey("ACOG"),
  "azure-event-grid-key": caskKey("AZEG"),
  "azure-app-configuration-key": caskKey("AZAC"),
  "azure-communication-services-key": caskKey("AZCS"),
  "azure-maps-key": caskKey("AZMP"),
  "azure-fluid-relay-key": caskKey("AZFR"),
  "azure-mixed-reality-key": caskKey("AZMR"),
  "azure-sql-key": caskKey("msql"),
  "azure-storage-identifiable-key": identifiableKey("azure-storage", 64),
  "azure-cosmos-db-identifiable-key": identifiableKey("azure-cosmos-db", 64),
  "azure-service-bus-identifiable-key": identifiableKey("azure-service-bus", 32),
  "azure-event-hubs-identifiable-key": identifiableKey("azure-event-hubs", 32),
  "azure-relay-identifiable-key": identifiableKey("azure-relay", 32),
  "azure-functions-identifiable-key": identifiableKey("azure-functions", 40, "url"),
  "azure-apim-identifiable-key": identifiableKey("azure-apim", 64),
  "azure-search-identifiable-key": identifiableKey("azure-search", 39, "base62"),
  "azure-redis-identifiable-key": identifiableKey("azure-redis", 32),
  "azure-container-registry-identifiable-key": identifiableKey("azure-container-registry", 39),
  "azure-iot-identifiable-key": identifiableKey("azure-iot", 32),
  "azure-batch-identifiable-key": identifiableKey("azure-batch", 64),
  "azure-ml-classic-identifiable-key": identifiableKey("azure-ml-classic", 64),
  "entra-client-secret": entraClientSecret,
  "atlassian-api-token": atlassianToken("ATATT3xFfGF0"),
  "bitbucket-access-token": atlassianToken("ATCTT3xFfGN0"),
  "supabase-service-role-jwt": serviceRoleJwt,
  "discord-bot-token": discordBotToken,
  "gcp-service-account-key": gcpServiceAccount,
  "pgp-private-key": pgpPrivateKey,
  ...Object.fromEntries(Object.entries(TEMPLATES).map(([name, template]) => [name, fromTemplate(template)])),
};

/** One character changed inside the checksummed part, so that the checksum no longer holds. */
export function corrupt(token: string, rng: SeededRandom): string {
  const at = 12 + rng.below(Math.max(1, Math.min(token.length - 24, 30)));
  const old = token[at] as string;
  const alphabet =
    /[a-z2-7]/.test(old) && /^[a-z2-7]+$/.test(token) ? "abcdefghijklmnopqrstuvwxyz234567" : ALNUM;
  let replacement = old;
  while (replacement === old) replacement = alphabet[rng.below(alphabet.length)] as string;
  return token.slice(0, at) + replacement + token.slice(at + 1);
}

const PLACEHOLDER = /\{\{([a-z0-9-]+)(?::(bad-checksum))?\}\}/g;

export class UnknownSampleError extends Error {}

/** Replaces `{{format}}` and `{{format:bad-checksum}}` with generated tokens; returns the text and the tokens. */
export function fillSamples(text: string, rng: SeededRandom): { text: string; tokens: string[] } {
  const tokens: string[] = [];
  const filled = text.replace(PLACEHOLDER, (_all, name: string, modifier?: string) => {
    const make = SAMPLE_FORMATS[name];
    if (!make) {
      throw new UnknownSampleError(
        `unknown sample "{{${name}}}"; known: ${Object.keys(SAMPLE_FORMATS).join(", ")}`,
      );
    }
    const token = modifier ? corrupt(make(rng), rng) : make(rng);
    tokens.push(token);
    return token;
  });
  return { text: filled, tokens };
}
