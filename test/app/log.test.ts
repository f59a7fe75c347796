import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { serveLogger } from "../../src/app/log.js";

function capture(tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty });
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe("serve's logger", () => {
  it("writes pino JSON lines with the time when not on a terminal", async () => {
    const out = capture(false);
    serveLogger("info", undefined, out.stream).info("scan job 1: 1 findings");
    await new Promise((resolve) => setImmediate(resolve));
    const line = JSON.parse(out.text().trim()) as { time: number; msg: string; level: number };
    expect(line).toMatchObject({ msg: "scan job 1: 1 findings", level: 30 });
    expect(Math.abs(line.time - Date.now())).toBeLessThan(60_000);
  });

  it("writes readable lines that start with the date and time on a terminal", async () => {
    const out = capture(true);
    serveLogger("info", undefined, out.stream).warn("report job 3 waits");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(out.text()).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN.*report job 3 waits/);
  });
});
