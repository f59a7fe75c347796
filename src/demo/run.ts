// npm run demo: the whole flow on this machine, narrated. Nothing here needs a GitHub account or a network.
import { REPOSITORY, startScenario } from "./scenario.js";

const step = (n: number, text: string) => console.log(`\n${n}. ${text}`);
const indent = (text: string) =>
  text
    .split("\n")
    .map((line) => `   ${line}`)
    .join("\n");

const scenario = await startScenario();
try {
  console.log("leakwarden demo: a leaked Azure DevOps PAT, from push to revocation, on local stand-ins");
  step(1, "Started stand-ins and the app:");
  console.log(
    indent(`GitHub API (as GitHub Enterprise)  ${scenario.github.url}/api/v3
Azure DevOps (Token Admin, PATs)    ${scenario.ado.url}
git (git http-backend, same host)   ${scenario.github.url}/acme/app.git
leakwarden serve                    ${scenario.appUrl}  (GET /healthz: ok)`),
  );

  step(
    2,
    "The security team mints a PAT through the PAT lifecycle API; leakwarden registers its hash and authorizationId:",
  );
  const minted = await scenario.cli([
    "registry",
    "mint",
    "--provider",
    "azure-devops",
    "--org",
    "contoso",
    "--name",
    "ci-deploy",
    "--scopes",
    "vso.code",
    "--expires-in",
    "30d",
  ]);
  if (minted.status !== 0) throw new Error(`registry mint failed: ${minted.stderr}`);
  const pat = minted.stdout.trim();
  console.log(
    indent(
      `$ leakwarden registry mint --provider azure-devops --org contoso --name ci-deploy --scopes vso.code --expires-in 30d\n${minted.stderr.trim()}`,
    ),
  );
  console.log(
    indent(
      `(the token itself, …${pat.slice(-4)}, stays in this process's memory: this demo never prints it)`,
    ),
  );

  step(3, `A developer commits the PAT to deploy.sh on a new branch of ${REPOSITORY} and pushes it:`);
  const update = await scenario.push(
    "release/deploy",
    { "deploy.sh": `#!/bin/sh\nexport AZURE_DEVOPS_EXT_PAT=${pat}\naz pipelines run --name deploy\n` },
    "Add deploy script",
  );
  console.log(indent(`git push origin release/deploy   (commit ${update.after.slice(0, 12)})`));

  step(4, "GitHub delivers the push webhook, signed with X-Hub-Signature-256:");
  const delivered = await scenario.deliver("push", scenario.pushPayload("release/deploy", update));
  console.log(
    indent(
      `POST ${scenario.appUrl}/api/github/webhooks  ->  ${delivered.status}  (delivery ${delivered.delivery})`,
    ),
  );

  // A PAT that leakwarden minted is revoked through the PAT lifecycle API; others through the Token Admin API.
  const revocation = await scenario.until("the revocation", () =>
    scenario.ado.requests.find(
      (r) => r.path.endsWith("/_apis/tokenadmin/revocations") || r.method === "DELETE",
    ),
  );
  step(
    5,
    "leakwarden fetched the push with git, found the PAT, matched it in the registry by hash and revoked it by its authorizationId. Azure DevOps received:",
  );
  console.log(
    indent(
      `${revocation.method} ${revocation.path}?${revocation.query.toString()}\nAuthorization: Bearer <the Entra token from LEAKWARDEN_ADO_TOKEN>${revocation.body ? `\n${revocation.body}` : ""}`,
    ),
  );

  const issue = await scenario.until("the issue", () => scenario.github.issues[0]);
  step(6, `It opened issue #${issue.number} on ${REPOSITORY}, labelled ${issue.labels.join(", ")}:`);
  console.log(indent(`# ${issue.title}\n\n${issue.body}`));

  const leaked = [scenario.output(), issue.title, issue.body, revocation.body].some((text) =>
    text.includes(pat),
  );
  console.log(
    `\nThe PAT's value appears in no log line, issue or API call: ${leaked ? "FAILED" : "checked"}.`,
  );
  if (leaked) process.exitCode = 1;
} finally {
  await scenario.stop();
}
