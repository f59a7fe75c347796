// `leakwarden console`: the web console over the local database, for one person at this machine. It binds
// 127.0.0.1 and prints a one-time sign-in link, as a notebook server does; the revocation worker runs too,
// so that a retry asked for in the console happens.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CONSOLE_PATH, ConsoleServer } from "../console/server.js";
import { randomToken } from "../console/session.js";
import { DEFAULT_ENGINE_SETTINGS, selectRules } from "../scan/settings.js";
import { defaultActor } from "../store/index.js";
import { type Command, parseFlags, UsageError } from "./command.js";
import { cliRevokers, cliWorker } from "./revocation-runner.js";
import { DB_FLAG, DB_HELP, openCliStore } from "./store-access.js";

const HELP = `Usage: leakwarden console [--port N] [--db FILE]

Serves the web console (overview, findings, registry, audit log) over the
local database at http://127.0.0.1:PORT/console, and prints a one-time sign-in
link: open it in a browser on this machine. The link works once; the session
lasts 8 hours. Actions are audited as $LEAKWARDEN_ACTOR, else the OS user.
Queued revocations run while the console is up (provider settings as for
'leakwarden revoke'). Stop it with Ctrl-C.

Options
  --port N        the port (default 8377; 0 picks a free one)
${DB_HELP}
`;

const FLAGS = { port: { type: "string" }, ...DB_FLAG } as const;
export const DEFAULT_CONSOLE_PORT = 8377;

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONSOLE_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--port takes a port number from 0 to 65535, not "${value}"`, "console");
  return Number(value);
}

export const consoleCommand: Command = {
  name: "console",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseFlags("console", args, FLAGS);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, "console");
    const port = parsePort(values.port);
    const store = await openCliStore(values, io, { create: false });
    const revokers = cliRevokers(io);
    const worker = cliWorker(store, revokers, io);
    const token = randomToken();
    const consoleServer = new ConsoleServer({
      store,
      signIn: { kind: "token", token, login: defaultActor(io.env) },
      revokers,
      rules: selectRules(DEFAULT_ENGINE_SETTINGS),
      sessionKey: randomBytes(32),
      secureCookies: false,
      revocationsQueued: () => worker.notify(),
    });
    const server = createServer((req, res) => {
      if (consoleServer.handle(req, res)) return;
      if (req.url === "/") res.writeHead(303, { location: `${CONSOLE_PATH}/` }).end();
      else res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", resolve);
      });
    } catch (error) {
      await store.close();
      throw new UsageError(
        `cannot listen on 127.0.0.1:${port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        "console",
      );
    }
    const { port: bound } = server.address() as AddressInfo;
    io.stdout.write(
      `leakwarden console on http://127.0.0.1:${bound}${CONSOLE_PATH}/\nOpen this one-time link to sign in:\n  http://127.0.0.1:${bound}${CONSOLE_PATH}/login?token=${token}\n`,
    );
    worker.start();
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await worker.stop();
    await store.close();
    return 0;
  },
};
