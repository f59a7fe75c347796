// The validate stage's engine: picks the check for a token's rule, reuses a verdict still within its time to live,
// paces calls per provider, stores and audits each verdict (by hash, never the value).
import PQueue from "p-queue";
import { UserError } from "../errors.js";
import type { Rule } from "../scan/rules.js";
import type { Store } from "../store/index.js";
import type { ValidationRecord } from "../store/validations.js";
import { ANTHROPIC_CHECK } from "./anthropic.js";
import { AwsValidator } from "./aws.js";
import { AzureDevOpsValidator } from "./azure-devops.js";
import { BearerValidator } from "./bearer.js";
import { GitHubValidator } from "./github.js";
import { GitLabValidator } from "./gitlab.js";
import { HUGGINGFACE_CHECK } from "./huggingface.js";
import { NPM_CHECK } from "./npm.js";
import { OPENAI_CHECK } from "./openai.js";
import { ruleValidators } from "./rule-check.js";
import { type ValidateSettings, validateSettings } from "./settings.js";
import { SLACK_CHECK } from "./slack.js";
import { STRIPE_CHECK } from "./stripe.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

export const DEFAULT_TTL_SECONDS = 3600;
/** Calls per second to one provider, and at once: far below every provider's published limit. */
export const CALLS_PER_SECOND = 5;
export const CONCURRENCY = 2;

export class ValidateSettingsError extends UserError {}

/** Rule id → the check for its tokens. Rules not listed have no live check. */
export function builtInValidators(settings: ValidateSettings): Map<string, Validator> {
  const github = new GitHubValidator(settings);
  const installation = new GitHubValidator(settings, true);
  const ado = new AzureDevOpsValidator(settings);
  const gitlab = new GitLabValidator(settings);
  const slack = new BearerValidator(SLACK_CHECK, settings);
  return new Map<string, Validator>([
    ["github-pat", github],
    ["github-fine-grained-pat", github],
    ["github-oauth-token", github],
    ["github-user-token", github],
    ["github-installation-token", installation],
    ["github-installation-token-stateless", installation],
    ["azure-devops-pat", ado],
    ["azure-devops-pat-legacy", ado],
    ["gitlab-pat", gitlab],
    ["gitlab-pat-routable", gitlab],
    ["npm-token", new BearerValidator(NPM_CHECK, settings)],
    ["slack-bot-token", slack],
    ["slack-user-token", slack],
    ["openai-api-key", new BearerValidator(OPENAI_CHECK, settings)],
    ["anthropic-api-key", new BearerValidator(ANTHROPIC_CHECK, settings)],
    ["stripe-live-key", new BearerValidator(STRIPE_CHECK, settings)],
    ["huggingface-token", new BearerValidator(HUGGINGFACE_CHECK, settings)],
    ["aws-access-key-id", new AwsValidator(settings)],
  ]);
}

export interface CheckerOptions {
  store: Store;
  settings?: ValidateSettings;
  /** Rule id → check; default the built-in ones. */
  validators?: Map<string, Validator>;
  /** Rules whose `live-check:` adds a check (custom rules). */
  rules?: readonly Rule[];
  /** How long a live or inactive verdict is reused (LEAKWARDEN_VALIDATION_TTL_SECONDS). */
  ttlMs?: number;
  callsPerSecond?: number;
}

export function ttlFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.LEAKWARDEN_VALIDATION_TTL_SECONDS;
  if (value === undefined || value === "") return DEFAULT_TTL_SECONDS * 1000;
  if (!/^\d+$/.test(value))
    throw new ValidateSettingsError(
      `LEAKWARDEN_VALIDATION_TTL_SECONDS must be a number of seconds, not "${value}"`,
    );
  return Number(value) * 1000;
}

export class LiveChecker {
  private readonly store: Store;
  private readonly validators: Map<string, Validator>;
  private readonly ttlMs: number;
  private readonly callsPerSecond: number;
  private readonly queues = new Map<string, PQueue>();

  constructor(options: CheckerOptions) {
    this.store = options.store;
    const settings = options.settings ?? validateSettings();
    this.validators = new Map([
      ...(options.validators ?? builtInValidators(settings)),
      ...ruleValidators(options.rules ?? [], settings),
    ]);
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_SECONDS * 1000;
    this.callsPerSecond = options.callsPerSecond ?? CALLS_PER_SECOND;
  }

  supports(ruleId: string): boolean {
    return this.validators.has(ruleId);
  }

  /** A check can run for this rule's token, with what is known about it (a registered PAT's organisation). */
  canCheck(ruleId: string, known: Pick<ValidationTarget, "org" | "partner">): boolean {
    const validator = this.validators.get(ruleId);
    return validator !== undefined && validator.cannotCheck?.(known) === undefined;
  }

  private queueFor(provider: string): PQueue {
    let queue = this.queues.get(provider);
    if (!queue) {
      queue = new PQueue({ concurrency: CONCURRENCY, interval: 1000, intervalCap: this.callsPerSecond });
      this.queues.set(provider, queue);
    }
    return queue;
  }

  /**
   * The verdict on one token: a stored one still within its time to live, else a fresh call. `fresh` skips the
   * stored verdict (a check after a revocation). Unknown verdicts are stored but never reused.
   */
  async check(
    ruleId: string,
    target: ValidationTarget,
    options: { fresh?: boolean } = {},
  ): Promise<ValidationRecord> {
    const validator = this.validators.get(ruleId);
    const provider = validator?.provider ?? ruleId;
    if (!options.fresh) {
      const cached = await this.store.validations.fresh(target.secretHash);
      if (cached) return cached;
    }
    let validity: Validity;
    const cannot = validator ? validator.cannotCheck?.(target) : `no live check for ${ruleId} tokens`;
    if (cannot) validity = { status: "unknown", why: cannot };
    else {
      const run = (validator as Validator).validate.bind(validator, target);
      try {
        validity = await this.queueFor(provider).add(run);
      } catch (error) {
        validity = { status: "unknown", why: `the check failed: ${(error as Error).message}` };
      }
    }
    const ttl = validity.status === "unknown" ? 0 : this.ttlMs;
    return await this.store.transaction(async (tx) => {
      const record = await tx.validations.save(target.secretHash, provider, validity, ttl);
      if (!cannot)
        await tx.audit.record({
          action: `validate.${validity.status}`,
          provider,
          secretHash: target.secretHash,
          detail: {
            ...(validity.status === "live" ? { identity: validity.identity } : {}),
            ...(validity.status === "inactive" ? { detail: validity.detail } : {}),
            ...(validity.status === "unknown" ? { why: validity.why } : {}),
          },
        });
      return record;
    });
  }
}
