// Time as the store sees it: injectable, so that tests can move it instead of sleeping.

export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** Timestamps are stored as ISO 8601 UTC with milliseconds: fixed width, so they sort as text. */
export function iso(date: Date): string {
  return date.toISOString();
}

export function later(clock: Clock, ms: number): string {
  return iso(new Date(clock().getTime() + ms));
}
