// Named checksum validators that rules refer to by name.
import { isValidAdoLegacyPat, isValidAdoPat } from "./azure-devops.js";
import { isValidGithubClassicToken } from "./github.js";
import { isValidGitlabRoutableToken } from "./gitlab.js";

export type Validator = (secret: string) => boolean;

export const VALIDATORS: Readonly<Record<string, Validator>> = {
  "azure-devops-pat": isValidAdoPat,
  "azure-devops-pat-legacy": isValidAdoLegacyPat,
  "github-crc32": isValidGithubClassicToken,
  "npm-crc32": isValidGithubClassicToken,
  "gitlab-routable-crc32": isValidGitlabRoutableToken,
};

export function validatorNames(): string[] {
  return Object.keys(VALIDATORS);
}
