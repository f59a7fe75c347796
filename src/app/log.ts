// `serve`'s log: pino, every line with its time. Standard pino JSON lines (epoch milliseconds in `time`) when
// stdout is not a terminal (or LOG_FORMAT=json), for log collectors; readable lines with the local time on a
// terminal (or LOG_FORMAT=pretty).
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export function serveLogger(
  level: string,
  format?: string,
  stream: NodeJS.WritableStream = process.stdout,
): Logger {
  const options = { level, name: "leakwarden" };
  const json = format === "json" || (format !== "pretty" && !(stream as NodeJS.WriteStream).isTTY);
  if (json) return pino(options, stream);
  return pino(
    options,
    pretty({ destination: stream, translateTime: "SYS:yyyy-mm-dd HH:MM:ss.l", ignore: "pid,hostname" }),
  );
}
