// The ring of recent blob contents: what it gives back is always the bytes that were kept under that name,
// never another blob's bytes that overwrote them; the newest are kept, the oldest go.
import { describe, expect, it } from "vitest";
import { RecentBlobs } from "../../src/scan/recent-blobs.js";
import { SeededRandom } from "../../src/scan/samples.js";

describe("recent blobs", () => {
  it("gives back each blob's own bytes, or nothing once the ring wrapped over it", () => {
    const rng = new SeededRandom(77);
    const recent = new RecentBlobs(4096);
    const kept = new Map<string, Buffer>();
    let found = 0;
    let forgotten = 0;
    for (let i = 0; i < 5000; i++) {
      const name = `blob${i}`;
      const bytes = Buffer.from(rng.chars("abcdefgh", 1 + rng.below(600)));
      recent.put(name, bytes);
      kept.set(name, bytes);
      const asked = `blob${Math.max(0, i - rng.below(40))}`;
      const back = recent.get(asked);
      if (back === undefined) forgotten++;
      else {
        found++;
        expect(back.equals(kept.get(asked) as Buffer)).toBe(true);
      }
    }
    // The newest blob is always there; older ones come and go with the ring.
    expect(recent.get("blob4999")?.equals(kept.get("blob4999") as Buffer)).toBe(true);
    expect(found).toBeGreaterThan(0);
    expect(forgotten).toBeGreaterThan(0);
  });

  it("does not keep a blob larger than an eighth of the ring, nor the same blob twice", () => {
    const recent = new RecentBlobs(800);
    recent.put("big", Buffer.alloc(101, 1));
    expect(recent.get("big")).toBeUndefined();
    recent.put("small", Buffer.from("first"));
    recent.put("small", Buffer.from("other"));
    expect(recent.get("small")?.toString()).toBe("first");
  });

  it("gives room to read a blob straight in, and says which blobs that room pushed out", () => {
    const recent = new RecentBlobs(800);
    for (let i = 0; i < 8; i++) recent.put(`blob${i}`, Buffer.alloc(100, 48 + i));
    const oldest = recent.get("blob0") as Buffer;
    const room = recent.reserve("next", 100) as Buffer;
    expect(room).toHaveLength(100);
    // The ring wrapped over the oldest blob: a view taken of it before now shows the new blob's bytes.
    expect(recent.has("blob0")).toBe(false);
    expect(recent.has("blob1")).toBe(true);
    room.fill(120);
    expect(oldest.every((byte) => byte === 120)).toBe(true);
    expect(recent.get("next")?.every((byte) => byte === 120)).toBe(true);
    expect(recent.reserve("next", 100)).toBeUndefined();
    expect(recent.reserve("huge", 101)).toBeUndefined();
  });
});
