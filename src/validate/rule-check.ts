// The live check a rule declares (`live-check:` in rules/*.yml): one request to the URL the rule fixes, the token
// in the header or query parameter it names, its statuses read as live or inactive.
import type { LiveCheckSpec } from "../scan/live-check.js";
import type { Rule } from "../scan/rules.js";
import { identityCall } from "./check.js";
import type { ValidateSettings } from "./settings.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

export class RuleCheckValidator implements Validator {
  constructor(
    readonly provider: string,
    private readonly ruleId: string,
    private readonly spec: LiveCheckSpec,
    private readonly settings: ValidateSettings,
  ) {}

  validate(target: ValidationTarget): Promise<Validity> {
    const value = target.secret.reveal();
    const { spec } = this;
    const url = new URL(spec.url);
    if (spec.query) url.searchParams.set(spec.query, value);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (spec.header) headers[spec.header.name] = spec.header.value.split("{token}").join(value);
    return identityCall(
      spec.url,
      { method: spec.method, url: url.href, headers },
      this.settings,
      [value],
      (answer) => {
        if (spec.live.includes(answer.status))
          return {
            status: "live",
            identity: `a ${this.provider} token (rule ${this.ruleId}: ${answer.status})`,
          };
        if (spec.inactive.includes(answer.status))
          return { status: "inactive", detail: `${spec.method} ${spec.url} answered ${answer.status}` };
        return undefined;
      },
    );
  }
}

/** Rule id → the check its rule declares. */
export function ruleValidators(rules: readonly Rule[], settings: ValidateSettings): [string, Validator][] {
  return rules.flatMap((rule) =>
    rule.liveCheck
      ? [
          [rule.id, new RuleCheckValidator(rule.provider, rule.id, rule.liveCheck, settings)] as [
            string,
            Validator,
          ],
        ]
      : [],
  );
}
