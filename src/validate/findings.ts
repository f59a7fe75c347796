// The validate stage over a scan's findings: one check per token, however many places it leaked. AWS key ids
// are checked with the secret access key found nearest to them in the same file; a registered Azure DevOps PAT
// is checked through the organisation the registry knows.
import type { Finding } from "../scan/types.js";
import type { Store } from "../store/index.js";
import type { ValidationRecord } from "../store/validations.js";
import type { LiveChecker } from "./checker.js";
import type { ValidationTarget } from "./types.js";

const AWS_KEY_ID = "aws-access-key-id";
const AWS_SECRET = "aws-secret-access-key";

/** The secret access key beside a key id: same file (and commit), nearest line. */
function awsPartner(keyId: Finding, findings: readonly Finding[]): Finding | undefined {
  let best: Finding | undefined;
  for (const f of findings) {
    if (f.ruleId !== AWS_SECRET || f.file !== keyId.file || f.commit !== keyId.commit) continue;
    if (!best || Math.abs(f.line - keyId.line) < Math.abs(best.line - keyId.line)) best = f;
  }
  return best;
}

/**
 * Checks every token among `findings` that has a live check; returns the verdicts by token hash. A secret access
 * key gets its key id's verdict: they work, or not, together.
 */
export async function validateFindings(
  store: Store,
  checker: LiveChecker,
  findings: readonly Finding[],
): Promise<Map<string, ValidationRecord>> {
  const verdicts = new Map<string, ValidationRecord>();
  const seen = new Set<string>();
  const work: Promise<void>[] = [];
  for (const finding of findings) {
    if (!checker.supports(finding.ruleId) || seen.has(finding.secretHash)) continue;
    seen.add(finding.secretHash);
    const target: ValidationTarget = {
      secretHash: finding.secretHash,
      secret: finding.secret,
      org: (await store.tokens.byHash(finding.secretHash))?.org ?? null,
    };
    const partner = finding.ruleId === AWS_KEY_ID ? awsPartner(finding, findings) : undefined;
    if (partner) target.partner = partner.secret;
    work.push(
      checker.check(finding.ruleId, target).then((record) => {
        verdicts.set(finding.secretHash, record);
        if (partner && !verdicts.has(partner.secretHash)) verdicts.set(partner.secretHash, record);
      }),
    );
  }
  await Promise.all(work);
  return verdicts;
}
