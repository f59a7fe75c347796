// Dates as the registry takes them on the command line and in imports.
import { UserError } from "../errors.js";

export class DateError extends UserError {}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `2026-12-31` or a full ISO 8601 date-time, as an ISO UTC string. A date alone means the end of that day
 * for an expiry (the token still works on that day) and its start otherwise.
 */
export function parseDate(value: string, what: string, endOfDay = false): string {
  const text = value.trim();
  const parsed = DATE_ONLY.test(text)
    ? new Date(`${text}T${endOfDay ? "23:59:59.999" : "00:00:00.000"}Z`)
    : /^\d{4}-\d{2}-\d{2}T/.test(text)
      ? new Date(text)
      : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime()) || (DATE_ONLY.test(text) && parsed.toISOString().slice(0, 10) !== text))
    throw new DateError(`${what} must be a date such as 2026-12-31 or 2026-12-31T18:00:00Z, not "${value}"`);
  return parsed.toISOString();
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** `30d`, `4w`, `6m`, `1y` or a plain number of days, in days. */
export function parseLifetimeDays(value: string, what: string): number {
  const match = /^(\d+)\s*([dwmy]?)$/i.exec(value.trim());
  if (!match) throw new DateError(`${what} takes a lifetime such as 30d, 4w, 6m or 1y, not "${value}"`);
  const n = Number(match[1]);
  const unit = (match[2] || "d").toLowerCase();
  const days = unit === "w" ? n * 7 : unit === "m" ? n * 30 : unit === "y" ? n * 365 : n;
  if (days < 1) throw new DateError(`${what} must be at least one day`);
  return days;
}

export function addDays(from: Date, days: number): Date {
  return new Date(from.getTime() + days * DAY_MS);
}

export function daysBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / DAY_MS;
}
