// --since: git's own date parser turns anything it does not understand ("banana") into "now", and the scan
// then covers nothing while reporting clean. Only forms with one clear meaning reach git.
import { UsageError } from "./command.js";

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const RELATIVE = /^\d+[ .](?:second|minute|hour|day|week|month|year)s?[ .]ago$/i;
const EPOCH = /^@\d+$/;

/** The --since value, checked: 2024-01-31, 2024-01-31T12:00Z, "2 weeks ago", yesterday, or @<unix seconds>. */
export function checkSince(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const valid =
    (ISO.test(text) && !Number.isNaN(Date.parse(text.replace(" ", "T")))) ||
    RELATIVE.test(text) ||
    EPOCH.test(text) ||
    text.toLowerCase() === "yesterday";
  if (!valid)
    throw new UsageError(
      `--since takes a date such as 2024-01-31, "2 weeks ago", yesterday or @1700000000, not "${value}"`,
      "scan",
    );
  return text;
}
