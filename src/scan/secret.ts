// A secret value that refuses to be printed, logged or serialised by accident.
import { createHash } from "node:crypto";
import { inspect } from "node:util";

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The plaintext. Call it only where the value must leave this wrapper: a revocation call, --show-secrets. */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  /** `JSON.stringify` drops a property whose value serialises to undefined. */
  toJSON(): undefined {
    return undefined;
  }

  toString(): string {
    return "[secret]";
  }

  [inspect.custom](): string {
    return "[secret]";
  }
}

/** `sha256:` and the lower-case hex SHA-256 of the exact secret: the only form a secret is stored or compared in. */
export function secretHash(value: string): string {
  return `sha256:${createHash("sha256").update(value, "utf8").digest("hex")}`;
}
