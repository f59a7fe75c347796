// Writes a report to stdout or, atomically, to a file: a crash never leaves half a report behind.
import { renameSync, writeFileSync } from "node:fs";
import { fileProblem } from "../errors.js";
import type { Io } from "./command.js";

export function writeReport(text: string, output: string | undefined, io: Io): void {
  if (!output || output === "-") {
    io.stdout.write(text);
    return;
  }
  const temporary = `${output}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600 });
    renameSync(temporary, output);
  } catch (error) {
    throw new Error(`cannot write "${output}": ${fileProblem(error)}`);
  }
}
