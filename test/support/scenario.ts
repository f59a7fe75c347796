// What the end-to-end tests do with the demo scenario again and again: register an Azure DevOps PAT through
// the real CLI, and find the Token Admin revocation calls the Azure DevOps stand-in received for one.
import { expect } from "vitest";
import type { Scenario } from "../../src/demo/scenario.js";

const REVOCATIONS = "/contoso/_apis/tokenadmin/revocations";

/** `leakwarden registry add` for a PAT of the organisation contoso (the value on stdin); `extra`: more flags. */
export async function registerAdoPat(
  scenario: Scenario,
  pat: string,
  authorizationId: string,
  extra: readonly string[] = [],
): Promise<void> {
  const result = await scenario.cli(
    [
      "registry",
      "add",
      "--provider",
      "azure-devops",
      "--org",
      "contoso",
      "--authorization-id",
      authorizationId,
      ...extra,
    ],
    `${pat}\n`,
  );
  expect(result.status, result.stderr).toBe(0);
}

/** The revocation calls for the authorization `id`, in the order the stand-in received them. */
export function revocationsOf(scenario: Scenario, id: string) {
  return scenario.ado.requests.filter((r) => r.path === REVOCATIONS && r.body.includes(id));
}

/** Where among every request the stand-in received the first revocation call for `id` is (-1: none). */
export function revocationIndex(scenario: Scenario, id: string): number {
  return scenario.ado.requests.findIndex((r) => r.path === REVOCATIONS && r.body.includes(id));
}
