// The ports the scenarios give `leakwarden serve`: never from the kernel's ephemeral range, where a stand-in
// listening on port 0 or an outgoing connection may hold one already.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { childServerPort, portWasTaken } from "../../src/demo/ports.js";

describe("a child server's port", () => {
  it("is below the ephemeral range", () => {
    let lowestEphemeral = 32768;
    try {
      lowestEphemeral = Number(
        readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0],
      );
    } catch {
      // Not Linux: its documented default.
    }
    for (let i = 0; i < 1000; i++) {
      const port = childServerPort();
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(lowestEphemeral);
    }
  });

  it("is tried again only when it was taken", () => {
    expect(portWasTaken("leakwarden serve: listen EADDRINUSE: address already in use 127.0.0.1:36350")).toBe(
      true,
    );
    expect(portWasTaken("leakwarden serve: APP_ID is not set")).toBe(false);
  });
});
