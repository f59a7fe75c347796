// AWS: an access key id is checked only with its secret access key found beside it, through STS
// GetCallerIdentity (read-only, needs no permission), signed with SigV4. 403 InvalidClientTokenId or
// SignatureDoesNotMatch: the pair does not work.
import { identityCall } from "./check.js";
import type { ValidateSettings } from "./settings.js";
import { signV4 } from "./sigv4.js";
import type { ValidationTarget, Validator, Validity } from "./types.js";

const REFUSED = /InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|AccessDenied|InvalidAccessKeyId/;

export class AwsValidator implements Validator {
  readonly provider = "aws";

  constructor(private readonly settings: ValidateSettings) {}

  cannotCheck(target: Pick<ValidationTarget, "org" | "partner">): string | undefined {
    return target.partner
      ? undefined
      : "an AWS key id can be checked only with its secret access key, not found beside it";
  }

  validate(target: ValidationTarget): Promise<Validity> {
    const accessKeyId = target.secret.reveal();
    const secretAccessKey = target.partner?.reveal() ?? "";
    const base = this.settings.awsStsUrl;
    const url = `${base}/`;
    const body = "Action=GetCallerIdentity&Version=2011-06-15";
    const headers = signV4(
      {
        method: "POST",
        url,
        headers: {
          "content-type": "application/x-www-form-urlencoded; charset=utf-8",
          accept: "application/json",
        },
        body,
      },
      { accessKeyId, secretAccessKey },
      "us-east-1",
      "sts",
      new Date(this.settings.now()),
    );
    // Signed over Host, which fetch sets itself from the URL.
    const { host: _host, ...sent } = headers;
    return identityCall(
      base,
      { method: "POST", url, headers: sent, body },
      this.settings,
      [accessKeyId, secretAccessKey],
      (answer, description) => {
        if (answer.status === 403 && REFUSED.test(answer.body))
          return { status: "inactive", detail: description };
        if (answer.status !== 200) return undefined;
        const arn = /"Arn"\s*:\s*"([^"]+)"|<Arn>([^<]+)<\/Arn>/.exec(answer.body);
        return { status: "live", identity: `AWS ${arn?.[1] ?? arn?.[2] ?? "principal"}` };
      },
    );
  }
}
