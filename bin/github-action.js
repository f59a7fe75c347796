#!/usr/bin/env node
// The GitHub Action's entry point (see action.yml): plain Node on the compiled output.
const { runAction } = await import("../dist/cli/github-action.js");

process.exitCode = await runAction({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
