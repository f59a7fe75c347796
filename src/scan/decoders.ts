// Decoders find credentials that are not written out plainly: the base64 of an HTTP Basic header, a
// docker `auth` field, the password of a URL or of `curl -u`. Their output is scanned again by the rules.
import type { Encoding } from "./types.js";

export interface Decoder {
  encoding: Encoding;
  /** Literals the prefilter looks for (at least 3 bytes each). */
  keywords: string[];
  /** Group 1 is the encoded value; its span is the finding's location. */
  regex: string;
  /** The text to scan, or null when the value does not decode to credentials. */
  decode(value: string): string | null;
}

const PRINTABLE = /^[\x20-\x7e]+$/;

function base64Credentials(value: string): string | null {
  const text = Buffer.from(value, "base64").toString("latin1");
  return PRINTABLE.test(text) && text.includes(":") ? text : null;
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
    regex: "[A-Za-z][A-Za-z0-9+.-]{0,15}://[^\\s/?#@:'\"<>]{0,256}:([^\\s/?#@'\"<>]{1,1024})@",
    decode: percentDecoded,
  },
  {
    // curl -u user:TOKEN, curl --user=user:TOKEN
    encoding: "curl-user",
    keywords: ["-u ", "--user"],
    regex: "(?<![\\w-])(?:-u|--user)(?:[ \\t]{1,8}|=)['\"]?[^\\s'\":]{0,256}:([^\\s'\"]{1,1024})",
    decode: (value) => value,
  },
];
