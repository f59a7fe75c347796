// `leakwarden console` as a user runs it: the compiled CLI binds 127.0.0.1, prints a one-time sign-in link,
// and every page, asset and form is behind the session it grants.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookieHeader, SessionSigner } from "../../src/console/session.js";
import { openStore } from "../../src/store/index.js";
import { CLI, tempDir } from "../support/cli.js";

describe("leakwarden console", () => {
  const dir = tempDir("leakwarden-console-cli-");
  const db = join(dir.path, "local.db");
  let child: ChildProcess;
  let link = "";
  let base = "";
  let cookie = "";

  beforeAll(async () => {
    await (await openStore({ path: db, env: {} })).close();
    child = spawn(process.execPath, [CLI, "console", "--port", "0", "--db", db], {
      env: { ...process.env, LEAKWARDEN_ACTOR: "carol", NO_COLOR: "1" },
    });
    let out = "";
    link = await new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /(http:\/\/\S+\/console\/login\?token=\S+)/.exec(out);
        if (match) resolve(match[1] as string);
      });
      child.once("exit", (code) => reject(new Error(`console exited with ${code}: ${out}`)));
    });
    base = link.replace(/\/login\?.*$/, "");
  });

  afterAll(() => {
    child?.kill("SIGTERM");
    dir.remove();
  });

  it("binds 127.0.0.1 and sends a visitor without a session to sign in", async () => {
    expect(new URL(link).hostname).toBe("127.0.0.1");
    const res = await fetch(`${base}/findings`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/login");
  });

  it("grants a session for the one-time link, once", async () => {
    const first = await fetch(link, { redirect: "manual" });
    expect(first.status).toBe(303);
    cookie = first.headers.getSetCookie().find((c) => c.startsWith("leakwarden_session=")) as string;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Max-Age=28800/);
    // Plain-http localhost: a Secure cookie would be dropped by the browser.
    expect(cookie).not.toMatch(/Secure/);
    const again = await fetch(link, { redirect: "manual" });
    expect(again.status).toBe(403);
  });

  it("serves pages with a strict Content Security Policy to the session, as the local user", async () => {
    const session = cookie.split(";")[0] as string;
    const res = await fetch(`${base}/`, { headers: { cookie: session } });
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const body = await res.text();
    expect(body).toContain("carol");
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(body).not.toMatch(/\sstyle=/);
  });

  it("refuses a tampered cookie and a form without the CSRF token", async () => {
    const [name, value] = (cookie.split(";")[0] as string).split("=") as [string, string];
    const [payload, mac] = value.split(".") as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), login: "mallory" }),
    ).toString("base64url");
    const tampered = await fetch(`${base}/`, {
      headers: { cookie: `${name}=${forged}.${mac}` },
      redirect: "manual",
    });
    expect(tampered.status).toBe(303);
    const post = await fetch(`${base}/logout`, {
      method: "POST",
      headers: { cookie: `${name}=${value}`, "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=nope",
    });
    expect(post.status).toBe(403);
  });
});

describe("console sessions", () => {
  it("expire", () => {
    let now = 1_000;
    const signer = new SessionSigner(Buffer.alloc(32, 7), () => now, 60_000);
    const { value } = signer.issue("alice");
    expect(signer.verify(value)?.login).toBe("alice");
    now += 60_001;
    expect(signer.verify(value)).toBeUndefined();
  });

  it("are Secure cookies except on plain-http localhost", () => {
    const options = { path: "/console", maxAgeSeconds: 60 };
    expect(cookieHeader("s", "v", { ...options, secure: true })).toBe(
      "s=v; Path=/console; Max-Age=60; HttpOnly; SameSite=Lax; Secure",
    );
    expect(cookieHeader("s", "v", { ...options, secure: false })).not.toContain("Secure");
  });

  it("are not accepted under another key", () => {
    const { value } = new SessionSigner(Buffer.alloc(32, 1)).issue("alice");
    expect(new SessionSigner(Buffer.alloc(32, 2)).verify(value)).toBeUndefined();
  });
});
