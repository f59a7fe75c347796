// Who this App is on GitHub, to know the events it caused itself: the breach issues, comments and redaction
// edits it writes come back as webhooks, and reading them again would only spend the installation's budget.
//
// The sender is what tells: GitHub names the actor of an installation token's write as the App's bot user
// (`type: "Bot"`, login `<slug>[bot]`; a person's login cannot hold brackets). `performed_via_github_app` is not
// enough on its own: it is missing from review comments, commit comments, discussions and releases, and it is
// also set when a person writes through the App's user-to-server token, which is that person's text. So an event
// is the App's own only when its sender is a Bot and that Bot is this App: by its login once the slug is known
// (one GET /app when the server starts), or, until then, by `performed_via_github_app.id`. A person who edits
// a comment the App wrote is the sender of that edit: it is scanned like any other.
import type { ProbotOctokit } from "probot";

type Octokit = InstanceType<typeof ProbotOctokit>;
type Fields = Record<string, unknown>;

function object(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class AppIdentity {
  private slug: string | undefined;
  private learning: Promise<void> | undefined;

  constructor(
    readonly appId: number,
    private readonly appOctokit?: () => Promise<Octokit>,
  ) {}

  /** The bot's login, once known. */
  get botLogin(): string | undefined {
    return this.slug === undefined ? undefined : `${this.slug}[bot]`;
  }

  /** Asks GitHub for the App's slug (as the App); a failure is retried on the next call. */
  learn(): Promise<void> {
    if (this.slug !== undefined || !this.appOctokit) return Promise.resolve();
    this.learning ??= (async () => {
      try {
        const octokit = await this.appOctokit?.();
        const { data } = (await octokit?.rest.apps.getAuthenticated()) ?? { data: undefined };
        if (data?.slug) this.slug = data.slug;
      } finally {
        this.learning = undefined;
      }
    })();
    return this.learning;
  }

  /** True when the App's own bot sent this event (`item`: the issue, comment, discussion… it carries). */
  sentBy(payload: Fields, item: unknown): boolean {
    const sender = payload.sender;
    if (!object(sender) || sender.type !== "Bot") return false;
    if (this.slug !== undefined) return sender.login === this.botLogin;
    const via = object(item) ? item.performed_via_github_app : undefined;
    return object(via) && via.id === this.appId;
  }
}
