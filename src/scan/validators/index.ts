// Named checksum validators that rules refer to by name.
import { isValidAdoLegacyPat, isValidAdoPat } from "./azure-devops.js";
import { isValidAtlassianToken } from "./crc32-hex.js";
import { isValidGithubClassicToken } from "./github.js";
import { isValidGitlabRoutableToken } from "./gitlab.js";
import { isServiceRoleJwt } from "./jwt.js";
import {
  IDENTIFIABLE_KEYS,
  type IdentifiableFamily,
  identifiableValidator,
  isValidCaskKey,
  isValidEntraClientSecret,
} from "./microsoft.js";

export type Validator = (secret: string) => boolean;

/** Provider signatures of Microsoft's legacy CASK keys (LegacyCaskProviderSignatures in security-utilities). */
const CASK_SIGNATURES = ["ACOG", "AZEG", "AZAC", "AZCS", "AZMP", "AZFR", "AZMR", "msql"];

const identifiable = Object.fromEntries(
  (Object.keys(IDENTIFIABLE_KEYS) as IdentifiableFamily[]).map((family) => [
    `${family}-identifiable`,
    identifiableValidator(family),
  ]),
);

export const VALIDATORS: Readonly<Record<string, Validator>> = {
  "azure-devops-pat": isValidAdoPat,
  "azure-devops-pat-legacy": isValidAdoLegacyPat,
  "azure-cask": (key) => isValidCaskKey(key, CASK_SIGNATURES),
  ...identifiable,
  "entra-client-secret": isValidEntraClientSecret,
  "github-crc32": isValidGithubClassicToken,
  "npm-crc32": isValidGithubClassicToken,
  "gitlab-routable-crc32": isValidGitlabRoutableToken,
  "atlassian-crc32": isValidAtlassianToken,
  "jwt-service-role": isServiceRoleJwt,
};

export function validatorNames(): string[] {
  return Object.keys(VALIDATORS);
}
