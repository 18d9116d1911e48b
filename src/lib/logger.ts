// The process's logger: pino JSON lines for log collectors, or pino-pretty's readable lines when
// config.log.format is "pretty" (LOG_FORMAT, or a terminal outside production: src/config.ts
// decides). Components take child loggers, binding taskId, runId and deliveryId where they work.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";
import pretty from "pino-pretty";
import type { Config } from "../config.ts";

export type { Logger };

const options = (config: Pick<Config, "log">): LoggerOptions => ({
  level: config.log.level,
  redact: { paths: ["req.headers.authorization", "*.authorization", "*.key", "*.token"], censor: "[redacted]" },
});

/** `destination` defaults to stdout; tests pass a stream to read what was written. */
export function createLogger(config: Pick<Config, "log">, destination?: DestinationStream): Logger {
  if (config.log.format === "pretty") {
    // In this thread and synchronous (no transport worker): a developer's terminal, where a line
    // lost at exit would be the one that said why.
    const stream = pretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", ...(destination ? { destination, colorize: false } : {}) });
    return pino(options(config), stream);
  }
  return destination ? pino(options(config), destination) : pino(options(config));
}
