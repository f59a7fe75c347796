// Azure DevOps: a PAT authenticates only within its organisation, so only a registered PAT (whose organisation
// the registry knows) can be checked: `GET {org}/_apis/connectionData` with Basic `:PAT`. A refused PAT gets 401,
// or a 203 sign-in page.
import { json } from "../revoke/http.js";
import { identityCall } from "./check.js";
import type { ValidateSettings } from "./settings.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

export class AzureDevOpsValidator implements Validator {
  readonly provider = "azure-devops";

  constructor(private readonly settings: ValidateSettings) {}

  cannotCheck(target: Pick<ValidationTarget, "org" | "partner">): string | undefined {
    return target.org
      ? undefined
      : "an Azure DevOps PAT authenticates only within its organisation, and the registry does not know it";
  }

  validate(target: ValidationTarget): Promise<Validity> {
    const value = target.secret.reveal();
    const base = this.settings.adoUrl;
    const org = encodeURIComponent(target.org ?? "");
    const headers = {
      Authorization: `Basic ${Buffer.from(`:${value}`).toString("base64")}`,
      Accept: "application/json",
    };
    const url = `${base}/${org}/_apis/connectionData?api-version=7.1`;
    return identityCall(
      base,
      { method: "GET", url, headers },
      this.settings,
      [value],
      (answer, description) => {
        if (answer.status === 203 || answer.status === 403)
          return { status: "inactive", detail: `${description}: the PAT was refused` };
        if (answer.status !== 200) return undefined;
        const user = (json(answer) as { authenticatedUser?: { providerDisplayName?: unknown } } | undefined)
          ?.authenticatedUser;
        return {
          status: "live",
          identity: `${String(user?.providerDisplayName ?? "a user")} in ${target.org}`,
        };
      },
    );
  }
}
