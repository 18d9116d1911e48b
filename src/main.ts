// Entry point: `npm start`.
import { existsSync } from "node:fs";
import { loadConfig, ConfigError } from "./config.ts";
import { createLogger } from "./lib/logger.ts";
import { startServer } from "./server.ts";

async function main(): Promise<void> {
  // The first-run setup flow writes the app's credentials to .env; the process environment wins.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  const log = createLogger(config);
  const server = await startServer(config, log);
  log.info({ url: server.url, database: server.database.kind }, "Tasks is running");
  const stop = async (signal: string) => {
    log.info({ signal }, "shutting down");
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  // One line naming what is wrong, as operators see it in their process manager.
  console.error(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : `Tasks failed to start: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
