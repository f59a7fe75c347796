#!/usr/bin/env node
// Entry point: plain Node on the compiled output, so that start-up stays fast.
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
