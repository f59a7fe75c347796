// Decoders find credentials that are not written out plainly: the base64 of an HTTP Basic header, a
// docker `auth` field, the password of a URL or of `curl -u`. Their output is scanned again by the rules.
import type { Encoding } from "./types.js";

export interface Decoder {
  encoding: Encoding;
  /** Literals the prefilter looks for (at least 3 bytes each). */
  keywords: string[];
  /** Group 1 is the encoded value; its span is the finding's location. Starts with a keyword, so that the
   * engine searches only after each keyword hit, unless `before` says how far before it a match can start. */
  regex: string;
  before?: number;
  /**
   * The regex never matches a line break: it runs only on the keyword's line (within `before` and its reach
   * of the keyword), not on every line that far around it.
   */
  withinLine?: boolean;
  /** The text to scan, or null when the value does not decode to credentials. */
  decode(value: string): string | null;
  /** A cheap look at the bytes after a keyword hit; false skips the regex. */
  candidate?(bytes: Uint8Array, at: number): boolean;
}

const PRINTABLE = /^[\x20-\x7e]+$/;

/** Bytes that end a URL's authority, or the URL itself, before any `@`. */
const AUTHORITY_END = new Uint8Array(256);
for (const ch of "/?#<>\"' \t\r\n") AUTHORITY_END[ch.charCodeAt(0)] = 1;
const AT_SIGN = 0x40;
const MAX_USERINFO = 1300;

/** Most `://` are plain URLs: look for an `@` before the authority ends (`at` is where `://` starts). */
export function hasUserinfo(bytes: Uint8Array, at: number): boolean {
  const end = Math.min(bytes.length, at + 3 + MAX_USERINFO);
  for (let i = at + 3; i < end; i++) {
    const b = bytes[i] as number;
    if (b === AT_SIGN) return true;
    if (AUTHORITY_END[b] === 1) return false;
  }
  return false;
}

function base64Credentials(value: string): string | null {
  const text = Buffer.from(value, "base64").toString("latin1");
  return PRINTABLE.test(text) && text.includes(":") ? text : null;
}

/** Printable base64 text, whatever it holds (a Kubernetes Secret value, an .npmrc `_password`). */
function base64Text(value: string): string | null {
  const text = Buffer.from(value, "base64").toString("latin1");
  return text.length >= 4 && PRINTABLE.test(text) ? text : null;
}

/** `data:` that ends its line and is followed by an indented line: the start of a YAML map, not `data: x`. */
function startsYamlBlock(bytes: Uint8Array, at: number): boolean {
  let i = at + 5;
  while (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d) i++;
  return bytes[i] === 0x0a && (bytes[i + 1] === 0x20 || bytes[i + 1] === 0x09);
}

/** The values of a Kubernetes Secret's `data:` block, each decoded on its own line. */
function secretDataBlock(block: string): string | null {
  const lines: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    const match = /^[ \t]+([A-Za-z0-9._-]{1,253}):[ \t]*([A-Za-z0-9+/]+={0,2})[ \t]*$/.exec(line);
    const decoded = match ? base64Text(match[2] as string) : null;
    if (decoded) lines.push(`${match?.[1]}: ${decoded}`);
  }
  return lines.length > 0 ? lines.join("\n") : null;
}

/**
 * A JSON string's content with its escapes undone, or null when it has no `\uXXXX` or `\/` escape: the only
 * ones that can split a token (rules already read across `\n` in an escaped key).
 */
function jsonUnescaped(value: string): string | null {
  if (!/\\u[0-9A-Fa-f]{4}|\\\//.test(value)) return null;
  try {
    const text: unknown = JSON.parse(`"${value}"`);
    return typeof text === "string" && text !== value ? text : null;
  } catch {
    return null;
  }
}

function percentChanged(value: string): string | null {
  const decoded = percentDecoded(value);
  return decoded !== null && decoded !== value ? decoded : null;
}

function percentDecoded(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export const DECODERS: readonly Decoder[] = [
  {
    // Authorization: Basic ..., curl -H, git -c http.extraheader="AUTHORIZATION: basic ..."
    encoding: "base64-basic-auth",
    keywords: ["Basic ", "basic ", "BASIC "],
    regex: "(?<![A-Za-z])(?:Basic|basic|BASIC)[ \\t]{1,8}([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])",
    decode: base64Credentials,
  },
  {
    // ~/.docker/config.json: "auth": "base64(user:password)"
    encoding: "base64-docker-auth",
    keywords: ['"auth"'],
    regex: '"auth"[ \\t]{0,8}:[ \\t]{0,8}"([A-Za-z0-9+/]{8,4096}={0,2})"',
    decode: base64Credentials,
  },
  {
    // https://user:TOKEN@host/..., percent-encoded or not
    encoding: "url-userinfo",
    keywords: ["://"],
    regex: "://[^\\s/?#@:'\"<>]{0,256}:([^\\s/?#@'\"<>]{1,1024})@",
    // compile.ts checks every `://` hit for user-info before any rule or decoder runs there
    decode: percentDecoded,
  },
  {
    // curl -u user:TOKEN, curl --user=user:TOKEN
    encoding: "curl-user",
    keywords: ["-u ", "--user"],
    regex: "(?<![\\w-])(?:-u|--user)(?:[ \\t]{1,8}|=)['\"]?[^\\s'\":]{0,256}:([^\\s'\"]{1,1024})",
    decode: (value) => value,
  },
  {
    // Kubernetes Secret manifests: every value under `data:` is base64
    encoding: "k8s-secret-base64",
    keywords: ["data:"],
    regex:
      "data:[ \\t]*\\r?\\n((?:[ \\t]{1,16}[A-Za-z0-9._-]{1,253}:[ \\t]{0,8}[A-Za-z0-9+/=]{0,8192}\\r?\\n){1,64})",
    decode: secretDataBlock,
    candidate: startsYamlBlock,
  },
  {
    // .npmrc: _auth = base64(user:password), _password = base64(password)
    encoding: "npmrc-base64",
    keywords: ["_auth", "_password"],
    regex: "(?:_auth|_password)[ \\t]{0,4}=[ \\t]{0,4}[\"']?([A-Za-z0-9+/]{4,4096}={0,2})",
    decode: base64Text,
  },
  {
    // "a\/b", "\u0067hp_...": JSON string escapes
    encoding: "json-escaped",
    keywords: ["\\u00", "\\/"],
    regex: '((?:[^"\\\\\\r\\n]|\\\\.){1,2048})',
    before: 2048,
    withinLine: true,
    decode: jsonUnescaped,
  },
  {
    // sig=abc%2Bdef%3D, a token percent-encoded in a query string or form body
    encoding: "percent-encoded",
    keywords: ["%2F", "%2B", "%3D", "%2f", "%2b", "%3d", "%3A", "%3a", "%40", "%5F", "%5f", "%2D", "%2d"],
    regex: "(?<![A-Za-z0-9%+/=_.~-])([A-Za-z0-9%+/=_.~-]{6,2048})",
    before: 2048,
    withinLine: true,
    decode: percentChanged,
  },
];
