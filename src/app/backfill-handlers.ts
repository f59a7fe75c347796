// Webhooks that start work beside pushes and runs: an installation created, unsuspended or given repositories
// queues their backfills, and taking repositories away (removed, the installation deleted or suspended) cancels
// them; a pull request opened, reopened or pushed to queues the scan of its commits. As every handler: record
// the delivery, write durable jobs, return.
import type { Probot } from "probot";
import type { Store } from "../store/index.js";
import { acceptRemovalDelivery } from "./backfill-cancel.js";
import { acceptInstallationDelivery } from "./backfill-jobs.js";
import { guarded, type RepositoryPayload, repositoryRef } from "./handlers.js";
import { acceptPullRequestDelivery } from "./pull-requests.js";

export interface Wakeups {
  backfills(): void;
  pullRequests(): void;
}

export function registerBackfillHandlers(app: Probot, store: Store, wake: Wakeups): void {
  // Unsuspended: GitHub sent no push while the App was suspended, so every repository's history is scanned
  // again. Findings recorded before are not reported twice: a summary issue lists only what is new.
  app.on(
    ["installation.created", "installation.unsuspend"],
    guarded(async (context) => {
      const p = context.payload;
      // Created: GitHub lists the repositories it gave access to. Without a list, the stage asks for it.
      const repositories = p.action === "created" ? p.repositories?.map((r) => r.full_name) : undefined;
      const result = await acceptInstallationDelivery(
        store,
        context.id,
        "installation",
        p.installation.id,
        repositories,
      );
      if (result.queued > 0) wake.backfills();
      context.log.info(
        { delivery: context.id, installation: p.installation.id, queued: result.queued },
        `installation ${p.action === "created" ? "created" : "unsuspended"}: backfill queued`,
      );
    }),
  );

  app.on(
    "installation_repositories.added",
    guarded(async (context) => {
      const p = context.payload;
      const repositories = p.repositories_added.map((r) => r.full_name);
      const result = await acceptInstallationDelivery(
        store,
        context.id,
        "installation_repositories",
        p.installation.id,
        repositories,
      );
      if (result.queued > 0) wake.backfills();
      context.log.info(
        { delivery: context.id, installation: p.installation.id, queued: result.queued },
        "repositories added: backfill queued",
      );
    }),
  );

  app.on(
    "installation_repositories.removed",
    guarded(async (context) => {
      const p = context.payload;
      const result = await acceptRemovalDelivery(
        store,
        context.id,
        "installation_repositories",
        p.installation.id,
        p.repositories_removed.map((r) => r.full_name),
        "repositories removed",
      );
      context.log.info(
        { delivery: context.id, installation: p.installation.id, cancelled: result.cancelled },
        "repositories removed: their backfills cancelled",
      );
    }),
  );

  // Deleted: the App has no access left. Suspended: it keeps none while suspended (every installation token
  // is refused), and an owner suspends it to stop it acting; a backfill that went on would only fail.
  app.on(
    ["installation.deleted", "installation.suspend"],
    guarded(async (context) => {
      const p = context.payload;
      const result = await acceptRemovalDelivery(
        store,
        context.id,
        "installation",
        p.installation.id,
        undefined,
        p.action === "deleted" ? "installation deleted" : "installation suspended",
      );
      context.log.info(
        { delivery: context.id, installation: p.installation.id, cancelled: result.cancelled },
        `installation ${p.action}: its backfills cancelled`,
      );
    }),
  );

  app.on(
    ["pull_request.opened", "pull_request.reopened", "pull_request.synchronize"],
    guarded(async (context) => {
      const p = context.payload;
      const installation = p.installation?.id;
      if (!installation) return;
      const pull = p.pull_request;
      const outcome = await acceptPullRequestDelivery(store, context.id, {
        installation,
        repository: repositoryRef(p.repository as RepositoryPayload),
        number: pull.number,
        base: pull.base.sha,
        baseRef: pull.base.ref,
        head: pull.head.sha,
        headRepository: pull.head.repo?.full_name ?? p.repository.full_name,
        author: pull.user?.login ?? p.sender.login,
      });
      if (outcome === "queued") wake.pullRequests();
      context.log.info(
        { delivery: context.id, repository: p.repository.full_name, pull: pull.number, outcome },
        "pull request received",
      );
    }),
  );
}
