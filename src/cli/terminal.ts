// Terminal niceties: colours when a person is reading, plain text when a program is.

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

export function colorEnabled(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const identity = (text: string) => text;

export function style(enabled: boolean): Style {
  return enabled
    ? {
        bold: sgr(1, 22),
        dim: sgr(2, 22),
        red: sgr(31, 39),
        yellow: sgr(33, 39),
        green: sgr(32, 39),
        cyan: sgr(36, 39),
      }
    : { bold: identity, dim: identity, red: identity, yellow: identity, green: identity, cyan: identity };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const NAMED: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/**
 * Text that came from outside (file names, authors, rule descriptions, provider replies), made safe for a
 * terminal: C0 and C1 control characters and DEL become visible escapes (`\x1b`), so that a hostile
 * repository cannot set the title, write the clipboard, conceal text or erase the findings above it.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** A copy of a record with every string field printable (shallow: nested objects are left as they are). */
export function printableFields<T extends object>(record: T): T {
  const copy = { ...record };
  for (const [key, value] of Object.entries(copy))
    if (typeof value === "string") (copy as Record<string, unknown>)[key] = printable(value);
  return copy;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal escapes is the point
const ANSI = /\x1b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return [...text.replace(ANSI, "")].length;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + " ".repeat((widths[i] as number) - visibleLength(cell)),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** 12345 as "12,345"; toLocaleString would load ICU data on a hot start-up path. */
export function thousands(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${thousands(count)} ${count === 1 ? word : many}`;
}
