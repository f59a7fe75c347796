// Encryption at rest for the few values a job must keep until it runs (revocations that authenticate with the
// leaked token itself). AES-256-GCM with a key that is not in the database: LEAKWARDEN_KEY, or (SQLite only) a
// key file created next to the database with mode 0600. On PostgreSQL every replica must open what another
// sealed, so LEAKWARDEN_KEY is required there. Rotation: LEAKWARDEN_KEY_PREVIOUS still opens what the old key
// sealed, while the new key seals. The job's key is bound in as associated data, so a ciphertext copied onto
// another row does not open.

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { UserError } from "../errors.js";
import { Secret } from "../scan/secret.js";
import { MEMORY } from "./database.js";
import { assertPrivateFile } from "./private-file.js";

const FORMAT = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealError extends UserError {}

export function keyFilePath(dbPath: string): string {
  return `${dbPath}.key`;
}

function parseKey(text: string, where: string): Buffer {
  const value = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (key.length !== KEY_BYTES || (!/^[0-9a-f]{64}$/i.test(value) && !/^[A-Za-z0-9+/]{43}=?$/.test(value)))
    throw new SealError(
      `${where} must hold a 32-byte key as 64 hex digits or base64 (make one with: openssl rand -base64 32)`,
    );
  return key;
}

/** Reads the key file, creating it first when there is none; two processes racing end up with the same key. */
function keyFromFile(path: string): Buffer {
  if (!existsSync(path)) {
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      writeFileSync(temporary, `${randomBytes(KEY_BYTES).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
      try {
        linkSync(temporary, path); // atomic, and fails when another process got there first
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    } catch (error) {
      throw new SealError(
        `cannot create the key file "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    } finally {
      try {
        unlinkSync(temporary);
      } catch {}
    }
  }
  assertPrivateFile(path, "the key file");
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SealError(`cannot read the key file "${path}": ${(error as NodeJS.ErrnoException).code}`);
  }
  return parseKey(text, `the key file "${path}"`);
}

export class SecretBox {
  #key: Buffer | undefined;

  /**
   * `loadKey` runs on first use, so that a key file is only created when something needs sealing; `previous`
   * opens what an earlier key sealed (rotation), and never seals.
   */
  constructor(
    private readonly loadKey: () => Buffer,
    private readonly previous?: Buffer,
  ) {}

  /** The previous key from LEAKWARDEN_KEY_PREVIOUS, if set. */
  private static previousFrom(env: NodeJS.ProcessEnv): Buffer | undefined {
    return env.LEAKWARDEN_KEY_PREVIOUS
      ? parseKey(env.LEAKWARDEN_KEY_PREVIOUS, "LEAKWARDEN_KEY_PREVIOUS")
      : undefined;
  }

  /** The box for replicas sharing one PostgreSQL database: LEAKWARDEN_KEY, never a key file on one host. */
  static forSharedDatabase(env: NodeJS.ProcessEnv): SecretBox {
    if (!env.LEAKWARDEN_KEY)
      throw new SealError(
        "LEAKWARDEN_KEY is required with PostgreSQL: every replica must open what another sealed (make one with: openssl rand -base64 32, and give all replicas the same)",
      );
    const key = parseKey(env.LEAKWARDEN_KEY, "LEAKWARDEN_KEY");
    return new SecretBox(() => key, SecretBox.previousFrom(env));
  }

  /** The box for a database: LEAKWARDEN_KEY when set, else the key file beside the database. */
  static forDatabase(dbPath: string, env: NodeJS.ProcessEnv): SecretBox {
    if (env.LEAKWARDEN_KEY) {
      const key = parseKey(env.LEAKWARDEN_KEY, "LEAKWARDEN_KEY");
      return new SecretBox(() => key, SecretBox.previousFrom(env));
    }
    if (dbPath === MEMORY) {
      const key = randomBytes(KEY_BYTES);
      return new SecretBox(() => key);
    }
    return new SecretBox(() => keyFromFile(keyFilePath(dbPath)));
  }

  private key(): Buffer {
    this.#key ??= this.loadKey();
    return this.#key;
  }

  seal(value: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key(), iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT]), iv, cipher.getAuthTag(), body]);
  }

  open(sealed: Buffer, context: string): Secret {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT)
      throw new SealError("the sealed value is not in a format this leakwarden knows");
    const opened =
      this.openWith(this.key(), sealed, context) ??
      (this.previous && this.openWith(this.previous, sealed, context));
    if (opened === undefined)
      throw new SealError(
        this.previous
          ? "the sealed value opens with neither LEAKWARDEN_KEY nor LEAKWARDEN_KEY_PREVIOUS"
          : "the sealed value does not open with the current key (LEAKWARDEN_KEY or the key file changed)",
      );
    return opened;
  }

  private openWith(key: Buffer, sealed: Buffer, context: string): Secret | undefined {
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return new Secret(plain.toString("utf8"));
    } catch {
      return undefined;
    }
  }
}
