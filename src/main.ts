// Entry point: `npm start`.
import { existsSync } from "node:fs";
import { loadConfig, ConfigError } from "./config.ts";
import { createLogger, type Logger } from "./lib/logger.ts";
import { startServer } from "./server.ts";

async function main(): Promise<void> {
  // The first-run setup flow writes the app's credentials to .env; the process environment wins.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  const log = createLogger(config);
  const server = await startServer(config, log);
  log.info({ url: server.url, database: server.database.kind }, "Tasks is running");
  onShutdownSignal(log, config.shutdown.graceMs, (graceMs) => server.close({ graceMs }));
}

/** What closing may take beyond the steps' grace: the inbox's deliveries, the listener, the database. */
const closeMarginMs = 15_000;

/**
 * SIGTERM or SIGINT drains (server.close) and exits 0; closing that overruns the grace and its
 * margin exits 1, and so does a second signal: an operator who asks twice means now. Runs
 * interrupted either way resume on the next start.
 */
function onShutdownSignal(log: Logger, graceMs: number, close: (graceMs: number) => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, "second signal: exiting without waiting for the drain");
      process.exit(1);
    }
    closing = true;
    log.info({ signal, graceMs }, "shutting down: refusing writes, letting running steps finish, then closing");
    setTimeout(() => {
      log.error({ limitMs: graceMs + closeMarginMs }, "shutdown took too long: exiting without finishing it");
      process.exit(1);
    }, graceMs + closeMarginMs).unref();
    close(graceMs).then(
      () => {
        log.info("shut down cleanly");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  // One line naming what is wrong, as operators see it in their process manager.
  console.error(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : `Tasks failed to start: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
