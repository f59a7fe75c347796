#!/usr/bin/env node
// Entry point: plain Node on the compiled output, so that start-up stays fast.
import { setFlagsFromString } from "node:v8";

// A command that runs for seconds spends more on V8's inlining (compiled, thrown away at each deopt, compiled
// again) than the inlined code saves. Measured: `scan --git` of expressjs/express 1.65 -> 1.57 s wall, 2.81 ->
// 2.62 s CPU (median of 15); a 64 MB JSON file 0.62 -> 0.56 s; the typescript package 0.48 -> 0.44 s. Set
// before any code is optimised. The servers, which run for days, keep it.
if (!["serve", "console"].includes(process.argv[2] ?? "")) setFlagsFromString("--no-turbo-inlining");

let main;
try {
  ({ main } = await import("../dist/cli/main.js"));
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist")) throw error;
  process.stderr.write(
    "leakwarden: the compiled code is missing; run 'npm run build' (npm ci does it for you)\n",
  );
  process.exit(2);
}

// A closed pipe (leakwarden scan | head) is the reader's choice, not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
