// The proof that a secret never reached the disk or the screen: raw bytes searched for the plaintext.
import { existsSync, readFileSync } from "node:fs";
import { expect } from "vitest";

/** The database and the files SQLite keeps beside it. */
export function databaseFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}.key`].filter((f) => existsSync(f));
}

export function expectNotInFiles(files: readonly string[], secrets: readonly string[]): void {
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of secrets)
      expect(bytes.includes(secret), `${file} holds a plaintext token`).toBe(false);
  }
}

export function expectNotInText(texts: readonly string[], secrets: readonly string[]): void {
  for (const text of texts)
    for (const secret of secrets) expect(text.includes(secret), "output holds a plaintext token").toBe(false);
}
