// Checks that are one call with the token in a header, 200 for live and 401 for a refused token; each
// provider's file (npm.ts, openai.ts...) says which call and what a live answer shows.
import { type HttpAnswer, json } from "../revoke/http.js";
import { type IdentityCall, identityCall } from "./check.js";
import type { ValidateSettings } from "./settings.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

export interface BearerCheck {
  provider: string;
  base: (settings: ValidateSettings) => string;
  call: (base: string, value: string) => IdentityCall;
  /** The identity a live answer shows; undefined when the answer says the token is not live. */
  live: (answer: HttpAnswer) => Validity | undefined;
}

export class BearerValidator implements Validator {
  readonly provider: string;

  constructor(
    private readonly check: BearerCheck,
    private readonly settings: ValidateSettings,
  ) {
    this.provider = check.provider;
  }

  validate(target: ValidationTarget): Promise<Validity> {
    const value = target.secret.reveal();
    const base = this.check.base(this.settings);
    return identityCall(base, this.check.call(base, value), this.settings, [value], (answer) =>
      this.check.live(answer),
    );
  }
}

export const field = (answer: HttpAnswer, ...path: string[]): string | undefined => {
  let value: unknown = json(answer);
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
};

export const ok = (answer: HttpAnswer, identity: string, scopes?: string[]): Validity | undefined =>
  answer.status === 200 ? { status: "live", identity, ...(scopes ? { scopes } : {}) } : undefined;
