// A one-line progress display on stderr, only for a person at a terminal and only for work over a second.

const DELAY_MS = 1000;
const INTERVAL_MS = 200;

export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;
  private readonly enabled: boolean;
  private readonly start = performance.now();

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.enabled = stream.isTTY === true;
  }

  /** Draws `text()` when it is time to; `text` is only called then. */
  update(text: () => string): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.start < DELAY_MS || now - this.lastDraw < INTERVAL_MS) return;
    this.lastDraw = now;
    this.drawn = true;
    const line = text().slice(0, Math.max(20, (this.stream.columns ?? 80) - 1));
    this.stream.write(`\r\x1b[2K${line}`);
  }

  /** Removes the line so that it never mixes with what follows. */
  done(): void {
    if (this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
  }
}

export function rate(bytes: number, elapsedMs: number): string {
  return `${(bytes / 1024 / 1024 / Math.max(elapsedMs / 1000, 0.001)).toFixed(0)} MB/s`;
}
