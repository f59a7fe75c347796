// Text people write on GitHub (issues, pull request descriptions, comments, discussions, release notes), read
// and rewritten through the API by reference. A webhook carries the text too, but a queued job holds only the
// reference: the text may hold a token, and nothing that holds one is written to the database.
import type { ProbotOctokit } from "probot";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const TEXT_KINDS = [
  "issue",
  "pull_request",
  "issue_comment",
  "review_comment",
  "commit_comment",
  "discussion",
  "discussion_comment",
  "release",
] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

/** What each kind is called in a breach issue and a log line. */
export const TEXT_KIND_NAMES: Record<TextKind, string> = {
  issue: "issue",
  pull_request: "pull request description",
  issue_comment: "comment",
  review_comment: "review comment",
  commit_comment: "commit comment",
  discussion: "discussion",
  discussion_comment: "discussion comment",
  release: "release note",
};

/** Where a text lives: REST kinds by number or id, discussions by GraphQL node id. */
export interface TextRef {
  kind: TextKind;
  owner: string;
  repo: string;
  /** Issue or pull request number, comment or release id, or a discussion's (comment's) node id. */
  id: number | string;
  /** Its page on GitHub: a finding's location. */
  url: string;
}

/** A text's parts: a title (issues, pull requests, discussions, release names) and the body. */
export interface TextParts {
  title?: string;
  body: string;
}

/** The REST route of each kind but discussions (GraphQL only). */
const ROUTES: Record<Exclude<TextKind, "discussion" | "discussion_comment">, string> = {
  issue: "/repos/{owner}/{repo}/issues/{id}",
  pull_request: "/repos/{owner}/{repo}/pulls/{id}",
  issue_comment: "/repos/{owner}/{repo}/issues/comments/{id}",
  review_comment: "/repos/{owner}/{repo}/pulls/comments/{id}",
  commit_comment: "/repos/{owner}/{repo}/comments/{id}",
  release: "/repos/{owner}/{repo}/releases/{id}",
};
/** The field a kind's title is in, when it has one. */
const TITLE_FIELD: Partial<Record<TextKind, string>> = {
  issue: "title",
  pull_request: "title",
  discussion: "title",
  release: "name",
};

const READ_DISCUSSION = `query($id: ID!) { node(id: $id) { ... on Discussion { title body } ... on DiscussionComment { body } } }`;
const UPDATE_DISCUSSION = `mutation($id: ID!, $body: String!, $title: String) {
  updateDiscussion(input: { discussionId: $id, body: $body, title: $title }) { discussion { id } } }`;
const UPDATE_DISCUSSION_COMMENT = `mutation($id: ID!, $body: String!) {
  updateDiscussionComment(input: { commentId: $id, body: $body }) { comment { id } } }`;

function isGone(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === 404 || status === 410;
}

/** The text as it is now; null when it was deleted (or its repository or access is gone). */
export async function readText(octokit: Octokit, ref: TextRef): Promise<TextParts | null> {
  if (ref.kind === "discussion" || ref.kind === "discussion_comment") {
    try {
      const data = await octokit.graphql<{ node: { title?: string; body?: string } | null }>(
        READ_DISCUSSION,
        {
          id: String(ref.id),
        },
      );
      if (!data.node || typeof data.node.body !== "string") return null;
      return { ...(ref.kind === "discussion" ? { title: data.node.title ?? "" } : {}), body: data.node.body };
    } catch (error) {
      if (isGone(error) || /could not resolve to a node/i.test((error as Error).message)) return null;
      throw error;
    }
  }
  try {
    const { data } = await octokit.request(`GET ${ROUTES[ref.kind]}`, {
      owner: ref.owner,
      repo: ref.repo,
      id: ref.id,
    });
    const fields = data as Record<string, unknown>;
    const titleField = TITLE_FIELD[ref.kind];
    const title = titleField ? fields[titleField] : undefined;
    return {
      ...(typeof title === "string" ? { title } : {}),
      body: typeof fields.body === "string" ? fields.body : "",
    };
  } catch (error) {
    if (isGone(error)) return null;
    throw error;
  }
}

/** Replaces the text's body, and its title when given. */
export async function writeText(octokit: Octokit, ref: TextRef, parts: TextParts): Promise<void> {
  if (ref.kind === "discussion") {
    await octokit.graphql(UPDATE_DISCUSSION, {
      id: String(ref.id),
      body: parts.body,
      ...(parts.title !== undefined ? { title: parts.title } : {}),
    });
    return;
  }
  if (ref.kind === "discussion_comment") {
    await octokit.graphql(UPDATE_DISCUSSION_COMMENT, { id: String(ref.id), body: parts.body });
    return;
  }
  const titleField = TITLE_FIELD[ref.kind];
  await octokit.request(`PATCH ${ROUTES[ref.kind]}`, {
    owner: ref.owner,
    repo: ref.repo,
    id: ref.id,
    body: parts.body,
    ...(titleField && parts.title !== undefined ? { [titleField]: parts.title } : {}),
  });
}
