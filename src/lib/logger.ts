import { pino, type Logger } from "pino";
import type { Config } from "../config.ts";

export type { Logger };

export function createLogger(config: Pick<Config, "log">): Logger {
  return pino({
    level: config.log.level,
    ...(config.log.format === "pretty" ? { transport: { target: "pino-pretty" } } : {}),
    redact: { paths: ["req.headers.authorization", "*.authorization", "*.key", "*.token"], censor: "[redacted]" },
  });
}
