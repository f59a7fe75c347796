// Providers whose token revokes itself: the call is authenticated with the leaked value (GitHub installation
// tokens, GitLab PATs, Slack tokens). One token per call; the value must travel with the job.
import { exchange, type HttpAnswer, transientOutcome } from "./http.js";
import type { ProviderSettings } from "./settings.js";
import type {
  AttemptResult,
  BatchResult,
  CallSummary,
  RevocationTarget,
  Revoker,
  RevokerName,
} from "./types.js";

export abstract class SelfRevokingToken implements Revoker {
  abstract readonly name: RevokerName;
  readonly byValue = true;
  readonly batchSize = 1;
  abstract readonly concurrency: number;

  constructor(protected readonly settings: ProviderSettings) {}

  cannotRevoke(): undefined {
    return undefined;
  }

  abstract describe(): CallSummary;

  /** The request that authenticates with `value`. */
  protected abstract request(value: string): { headers: Record<string, string>; body?: string };

  /** 2xx revoked it; 401 or 404 means it no longer authenticates, so there is nothing left to revoke. */
  protected judge(answer: HttpAnswer, description: string, nowMs: number): AttemptResult {
    if (answer.status >= 200 && answer.status < 300) return { kind: "revoked" };
    if (answer.status === 401 || answer.status === 404)
      return { kind: "already-revoked", detail: `${description}: the token no longer authenticates` };
    return transientOutcome(answer, description, nowMs) ?? { kind: "failed", error: description };
  }

  async revoke(targets: readonly RevocationTarget[]): Promise<BatchResult> {
    const call = this.describe();
    const value = targets[0]?.secret?.reveal();
    if (!value) return { call, results: [{ kind: "failed", error: "the token's value is missing" }] };
    return exchange(call, this.request(value), this.settings, [value], 1, (answer, description, now) => [
      this.judge(answer, description, now),
    ]);
  }
}
