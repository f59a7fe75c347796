// What happens to findings after a scan: record them, match them against the registry, and queue the
// revocations the policy asks for. The CLI's `scan --record/--registry/--revoke` and the app share it.
import { Registry, type RegistryMatch, toMatch } from "../registry/registry.js";
import type { Rule } from "../scan/rules.js";
import type { Finding } from "../scan/types.js";
import type { FindingRecord } from "../store/findings.js";
import { locationKey } from "../store/findings.js";
import type { Store } from "../store/index.js";
import type { TokenRecord } from "../store/tokens.js";
import type { ValidationRecord } from "../store/validations.js";
import { enqueueConfirmations, withConfirmation } from "../validate/confirm.js";
import type { Handoff } from "./handoff.js";
import { DEFAULT_POLICY, decide, type RevocationPolicy } from "./policy.js";
import {
  enqueueRevocations,
  type RevocationRequest,
  type RevocationView,
  type RevokeJob,
  type RevokePayload,
  revocationKey,
  viewOfJob,
} from "./queue.js";
import type { RevokerSet } from "./types.js";

export interface ActOptions {
  /** Where the findings come from: empty for the CLI, a repository or CI run for the app. */
  source?: string;
  /** Store the findings. */
  record?: boolean;
  /** Look each finding up in the registry. */
  match?: boolean;
  /** Queue revocations per the policy (implies record and match). */
  revoke?: boolean;
  /** Say what revoke would do, writing nothing (implies match). */
  dryRun?: boolean;
  policy?: RevocationPolicy;
  maxAttempts?: number;
  /** Live-check verdicts by token hash (validateFindings): policy `live` revokes unregistered live tokens. */
  verdicts?: ReadonlyMap<string, ValidationRecord>;
  /** Whether a revocation of this rule's token is to be confirmed by a live check afterwards. */
  confirm?: (ruleId: string, org: string | null) => boolean;
  /** The revocation jobs' priority (store/jobs.ts PRIORITY); default live. */
  priority?: number;
  /** This process's revocation worker takes the calls it has a slot for: they start once the writes commit. */
  handoff?: Handoff;
}

export interface FindingActions {
  findingId: number | null;
  /** First seen by this scan. */
  created: boolean;
  registry: RegistryMatch | null;
  revocation: RevocationView | null;
}

export interface ActResult {
  /** One per finding, in the same order. */
  actions: FindingActions[];
  /** Revocation jobs not finished yet: what a worker should run now (a handed-off call is running already). */
  pendingJobIds: number[];
}

/** Findings a team decided not to revoke for do not trigger a revocation. */
const KEEPS_TOKEN = new Set(["false-positive", "accepted-risk"]);

export async function actOnFindings(
  store: Store,
  revokers: RevokerSet,
  rules: readonly Rule[],
  findings: readonly Finding[],
  options: ActOptions,
): Promise<ActResult> {
  const dryRun = options.dryRun === true;
  const revoke = options.revoke === true || dryRun;
  const record = (options.record === true || options.revoke === true) && !dryRun;
  const match = options.match === true || revoke;
  const source = options.source ?? "";
  const policy = options.policy ?? DEFAULT_POLICY;
  const ruleRevoker = new Map(rules.map((r) => [r.id, r.revoke]));

  // A waiting revocation found again by more urgent work (a push, after a backfill queued it) moves up.
  const moreUrgent = async (store: Store, job: RevokeJob): Promise<RevokeJob> => {
    const { priority } = options;
    if (dryRun || priority === undefined || priority >= job.priority || job.state !== "pending") return job;
    return (await store.jobs.enqueue<RevokePayload>({ ...job, priority })).job;
  };

  const run = async (store: Store): Promise<ActResult> => {
    // Every token looked up once, in a few statements, however many places it leaked.
    const tokens = match
      ? await new Registry(store).lookupMany(findings.map((f) => f.secretHash))
      : new Map<string, TokenRecord>();
    const lookup = (hash: string) => tokens.get(hash);
    const records: (FindingRecord | undefined)[] = [];
    const created: boolean[] = [];
    if (record) {
      for (const result of await store.findings.recordMany(findings, source)) {
        records.push(result.finding);
        created.push(result.created);
      }
    } else
      for (const f of findings) {
        // Without recording, an earlier triage decision still counts for --dry-run.
        records.push(revoke ? await store.findings.find(f.fingerprint, source, locationKey(f)) : undefined);
        created.push(false);
      }

    // One decision per token, however many places it leaked.
    const views = new Map<string, RevocationView>();
    const pending = new Set<number>();
    const settle = async (hash: string, view: RevocationView) => {
      const { jobId } = view;
      if (jobId !== undefined && view.status === "pending" && !options.handoff?.takes(jobId))
        pending.add(jobId);
      if (record && (view.status === "revoked" || view.status === "already-revoked"))
        await store.findings.markRevoked(hash);
      views.set(hash, view);
    };
    if (revoke) {
      const byHash = new Map<string, number[]>();
      findings.forEach((f, i) => {
        const list = byHash.get(f.secretHash);
        if (list) list.push(i);
        else byHash.set(f.secretHash, [i]);
      });
      // Every token's job looked up at once, and every new revocation queued at once: a few statements for
      // a batch of pushes, not a few per token.
      const existingJobs = await store.jobs.byKeys<RevokePayload>([...byHash.keys()].map(revocationKey));
      const toQueue: { hash: string; first: Finding; request: RevocationRequest }[] = [];
      for (const [hash, indexes] of byHash) {
        const first = findings[indexes[0] as number] as Finding;
        const token = lookup(hash);
        const existing = existingJobs.get(revocationKey(hash));
        let view: RevocationView;
        if (existing) view = await withConfirmation(store, await moreUrgent(store, existing));
        else if (token?.revokedAt)
          view = {
            status: "revoked",
            provider: token.provider,
            at: token.revokedAt,
            reason: "marked revoked in the registry",
          };
        else if (indexes.every((i) => KEEPS_TOKEN.has(records[i]?.resolution ?? "")))
          view = {
            status: "skipped",
            provider: null,
            at: null,
            reason: `resolved as ${records[indexes[0] as number]?.resolution}`,
          };
        else {
          const decision = decide(revokers, {
            ruleRevoker: ruleRevoker.get(first.ruleId),
            provider: first.provider,
            secretHash: hash,
            preview: first.redacted,
            token,
            policy,
            live: options.verdicts?.get(hash)?.validity.status === "live",
          });
          if (decision.action === "skip")
            view = {
              status: decision.status,
              provider: decision.provider,
              at: null,
              reason: decision.reason,
            };
          else if (dryRun) {
            const call = decision.revoker.describe(decision.target);
            view = {
              status: "would-revoke",
              provider: decision.revoker.name,
              at: null,
              reason: `${call.method} ${call.url}`,
            };
          } else {
            toQueue.push({
              hash,
              first,
              request: {
                revoker: decision.revoker,
                target: decision.target,
                options: {
                  tokenId: token?.id ?? null,
                  secret: first.secret,
                  maxAttempts: options.maxAttempts,
                  priority: options.priority,
                  reason: token ? `registered token #${token.id}` : `policy ${policy}`,
                },
              },
            });
            continue;
          }
        }
        await settle(hash, view);
      }
      const queued = await enqueueRevocations(
        store,
        toQueue.map((q) => q.request),
        options.handoff,
      );
      const confirmations = toQueue.flatMap(({ hash, first, request }, i) => {
        const org = request.target.org ?? null;
        return queued[i]?.created && options.confirm?.(first.ruleId, org)
          ? [
              {
                payload: {
                  secretHash: hash,
                  preview: request.target.preview,
                  ruleId: first.ruleId,
                  provider: request.revoker.name,
                  org,
                },
                secret: first.secret,
              },
            ]
          : [];
      });
      await enqueueConfirmations(store, confirmations);
      for (const [i, { hash }] of toQueue.entries())
        await settle(hash, viewOfJob((queued[i] as { job: RevokeJob }).job));
    }

    const actions = findings.map((f, i): FindingActions => {
      const token = match ? lookup(f.secretHash) : undefined;
      return {
        findingId: record ? (records[i]?.id ?? null) : null,
        created: created[i] ?? false,
        registry: match ? (token ? toMatch(token) : null) : null,
        revocation: revoke ? (views.get(f.secretHash) ?? null) : null,
      };
    });
    return { actions, pendingJobIds: [...pending] };
  };
  return dryRun ? run(store) : await store.transaction(run);
}
