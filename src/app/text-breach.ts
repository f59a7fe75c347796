// How a breach issue names a leak in text on GitHub (a comment, an issue, a release note) or one that GitHub's
// secret scanning found: the breach issue's renderer asks this module for the words that depend on the source.
import type { PublicFinding } from "../scan/types.js";
import { escapeMarkdown } from "./breach-issue.js";

export type TextBreachSource =
  | {
      kind: "text";
      /** What the text is, for people: "comment", "release note" (TEXT_KIND_NAMES). */
      what: string;
      url: string;
      author: string;
      /** The text's version (its `updated_at`): an edit that leaks a new token is a new breach. */
      version: string;
    }
  | { kind: "secret_scanning_alert"; number: number; url: string; secretType: string };

/** One issue per text version, or per alert. */
export function textBreachKey(repository: string, source: TextBreachSource): string {
  return source.kind === "text"
    ? `text:${repository}:${source.url}@${source.version}`
    : `alert:${repository}:${source.number}`;
}

/** A link to a GitHub page; anything that does not look like one is shown as text. */
function link(label: string, url: string): string {
  return /^https?:\/\/[^\s()<>[\]]+$/.test(url) ? `[${label}](${url})` : `${label} (${escapeMarkdown(url)})`;
}

/** The Location cell. Line 0 is the text's title. */
export function textLocation(source: TextBreachSource, f: Pick<PublicFinding, "line">): string {
  if (source.kind === "secret_scanning_alert")
    return link(`secret scanning alert #${source.number}`, source.url);
  return link(`${source.what}, ${f.line === 0 ? "title" : `line ${f.line}`}`, source.url);
}

export function textIssueTitle(source: TextBreachSource, what: string): string {
  return source.kind === "text"
    ? `${what} in ${/^[aeiou]/.test(source.what) ? "an" : "a"} ${source.what}`
    : `${what}: GitHub secret scanning alert #${source.number}`;
}

/** The issue's first sentence. */
export function textHeadline(
  source: TextBreachSource,
  count: number,
  mention: (login: string) => string,
): string {
  const found = count === 1 ? "a credential" : `${count} credentials`;
  if (source.kind === "text")
    return `${source.author ? `${mention(source.author)}, l` : "L"}eakwarden found ${found} in your ${link(source.what, source.url)}.`;
  return `GitHub secret scanning found ${found} (${link(`alert #${source.number}`, source.url)}, ${escapeMarkdown(source.secretType)}); leakwarden matched it against its token registry.`;
}
