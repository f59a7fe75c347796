// What a provider answers is hostile input too: its body is read only so far, its pauses only so long.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ANSWER_BYTES, MAX_PAUSE_MS, pauseMs, retryAfterMs, send } from "../../src/revoke/http.js";
import { createRevokers } from "../../src/revoke/providers.js";
import { Secret, secretHash } from "../../src/scan/secret.js";
import { tokens } from "../support/tokens.js";

const NOW = Date.parse("2026-11-28T10:00:00Z");
const headers = (values: Record<string, string>) => new Headers(values);

describe("Retry-After and rate-limit resets", () => {
  it.each([
    ["30", 30_000],
    ["99999", MAX_PAUSE_MS],
    ["99999999999999", MAX_PAUSE_MS],
    ["99999999999999999999999999", MAX_PAUSE_MS],
    ["Fri, 31 Dec 9999 23:59:59 GMT", MAX_PAUSE_MS],
    ["Sat, 28 Nov 2026 10:00:10 GMT", 10_000],
    ["Sat, 28 Nov 2026 09:00:00 GMT", 0],
  ])("Retry-After: %s waits %i ms at most", (value, expected) => {
    expect(retryAfterMs(headers({ "retry-after": value }), NOW)).toBe(expected);
  });

  it.each(["Fri, 01 Jan 99999 00:00:00 GMT", "1.5", "-3", "soon", "Fri, 99 Foo 2026"])(
    "Retry-After: %s is either ignored or clamped, never longer than an hour",
    (value) => {
      const wait = retryAfterMs(headers({ "retry-after": value }), NOW);
      if (wait !== undefined) expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait ?? 0).toBeLessThanOrEqual(MAX_PAUSE_MS);
      // Whatever it is, it makes a valid date: the worker stores next-attempt times as ISO strings.
      expect(() => new Date(NOW + (wait ?? 0)).toISOString()).not.toThrow();
    },
  );

  it("clamps an exhausted rate limit's reset", () => {
    for (const reset of ["99999999999999", "99999999999999999999"])
      expect(pauseMs(headers({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }), NOW)).toBe(
        MAX_PAUSE_MS,
      );
  });
});

describe("a provider's answer body", () => {
  let url = "";
  let written = 0;
  let closed: Promise<void> = Promise.resolve();
  const server = createServer((_req, res) => {
    // An endless error page, 1 MiB at a time, for as long as the client keeps reading (1 GiB at most).
    res.writeHead(500, { "content-type": "text/plain" });
    const chunk = Buffer.alloc(1024 * 1024, "e");
    let done: () => void = () => undefined;
    closed = new Promise((resolve) => {
      done = resolve;
    });
    res.on("close", done);
    const pump = () => {
      while (!res.destroyed && written < 1024 ** 3) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("is read a few KB at most, and the rest is never downloaded", async () => {
    written = 0;
    const before = process.memoryUsage().rss;
    const answer = await send(
      "POST",
      `${url}/revoke`,
      { headers: {} },
      { timeoutMs: 30_000, fetch, now: () => NOW },
      [],
    );
    await closed;
    expect(answer.status).toBe(500);
    expect(answer.body.length).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * 1024 * 1024);
  });

  it("does not stop a revocation: a huge 500 is a retry", async () => {
    written = 0;
    const gitlab = createRevokers({}, { gitlabUrl: url, timeoutMs: 30_000, now: () => NOW }).get("gitlab");
    const value = tokens(77).make("gitlab-pat-routable");
    const result = await gitlab?.revoke([
      { secretHash: secretHash(value), preview: "…", secret: new Secret(value) },
    ]);
    await closed;
    expect(result?.results[0]?.kind).toBe("retry");
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });
});
