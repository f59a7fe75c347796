// Which events the App sent itself: its bot as the sender, by login once the slug is known, by
// performed_via_github_app until then; never a person, even one writing through the App.
import { describe, expect, it } from "vitest";
import { AppIdentity } from "../../src/app/app-identity.js";

const bot = (login: string) => ({ sender: { login, type: "Bot" } });
const person = { sender: { login: "dana-dev", type: "User" } };
const via = (id: number) => ({ performed_via_github_app: { id, slug: "x" } });

describe("the App's own events", () => {
  it("are those its bot sent, by login once the slug is known", async () => {
    const identity = new AppIdentity(
      42,
      async () =>
        ({
          rest: { apps: { getAuthenticated: async () => ({ data: { slug: "leakwarden" } }) } },
        }) as never,
    );
    await identity.learn();
    expect(identity.botLogin).toBe("leakwarden[bot]");
    expect(identity.sentBy(bot("leakwarden[bot]"), {})).toBe(true);
    expect(identity.sentBy(bot("other-app[bot]"), via(42))).toBe(false);
    expect(identity.sentBy({ sender: { login: "leakwarden[bot]", type: "User" } }, {})).toBe(false);
    expect(identity.sentBy(person, via(42))).toBe(false);
  });

  it("until then, a Bot sender with this App's performed_via_github_app; a failed lookup is tried again", async () => {
    let calls = 0;
    const identity = new AppIdentity(42, async () => {
      calls++;
      throw new Error("GitHub is down");
    });
    await expect(identity.learn()).rejects.toThrow("GitHub is down");
    await expect(identity.learn()).rejects.toThrow("GitHub is down");
    expect(calls).toBe(2);
    expect(identity.sentBy(bot("leakwarden[bot]"), via(42))).toBe(true);
    expect(identity.sentBy(bot("leakwarden[bot]"), via(7))).toBe(false);
    expect(identity.sentBy(bot("leakwarden[bot]"), {})).toBe(false);
    // A person writing through the App's user-to-server token: their text, scanned.
    expect(identity.sentBy(person, via(42))).toBe(false);
  });
});
