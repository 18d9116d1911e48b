// Entry point: `npm run worker`. Runs the task workflow and the pipeline's activities for the
// Temporal engine (TEMPORAL_ADDRESS set); the web process only starts and signals workflows.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogEntry } from "@temporalio/worker";
import { composeActivities, createFlags } from "../compose.ts";
import { readPrivateKey } from "../lib/private-key.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { openDatabase } from "../db/open-database.ts";
import { createLogger, type Logger } from "../lib/logger.ts";
import { wrapActivities } from "./activities.ts";

const workflowsPath = fileURLToPath(new URL("./workflows.ts", import.meta.url));

/** The SDK's own logs (worker, activity context) go to our structured logger. */
function installSdkLogger(log: Logger): void {
  const write = ({ level, message, meta }: LogEntry) => {
    const fields = { ...meta };
    if (level === "ERROR") log.error(fields, message);
    else if (level === "WARN") log.warn(fields, message);
    else if (level === "INFO") log.info(fields, message);
    else if (level === "DEBUG") log.debug(fields, message);
    else log.trace(fields, message);
  };
  // No shutdownSignals: the signals are this process's (onShutdownSignal), one owner for them.
  Runtime.install({ logger: new DefaultLogger("INFO", write), shutdownSignals: [] });
}

/** What stopping may take beyond the activities' grace: workflow tasks, the connection, the database. */
const closeMarginMs = 15_000;

/** The first SIGTERM or SIGINT drains the worker; a second one exits at once (runs retry elsewhere). */
function onShutdownSignal(log: Logger, shutdown: () => void): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting without waiting for the activities in flight");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down: finishing the activities in flight");
    shutdown();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

async function main(): Promise<void> {
  // Same as `npm start`: the first-run setup flow writes the app's credentials to .env.
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  if (config.orchestrator.kind !== "temporal") {
    throw new ConfigError("TEMPORAL_ADDRESS", "required to run the Temporal worker (the cluster's host:port, e.g. localhost:7233)");
  }
  const { address, namespace, taskQueue } = config.orchestrator;
  const log = createLogger(config).child({ name: "temporal-worker" });
  installSdkLogger(log);

  // Closed in reverse order however start-up or the run ends.
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const connection = await NativeConnection.connect({ address }).catch((error: unknown) => {
      throw new Error(`cannot reach the Temporal server at ${address} (TEMPORAL_ADDRESS): ${(error as Error).message}`, { cause: error });
    });
    closers.push(() => connection.close());
    const database = await openDatabase(config.database, log);
    closers.push(() => database.close());
    const { flags, close: closeFlags } = createFlags(config, database);
    closers.push(closeFlags);

    const activities = composeActivities(config, { db: database.prisma, flags, log: log.child({ name: "activities" }), privateKey: readPrivateKey(config), createTrackingComments: false });
    const { graceMs } = config.shutdown;
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath,
      activities: wrapActivities(activities),
      // Activities in flight get the grace to finish, then are cancelled (Temporal retries them on
      // another worker); past the force time run() throws and the process exits 1.
      shutdownGraceTime: graceMs,
      shutdownForceTime: graceMs + closeMarginMs,
    });
    onShutdownSignal(log, () => {
      if (worker.getState() === "RUNNING") worker.shutdown();
    });

    log.info({ address, namespace, taskQueue, database: database.kind }, "Temporal worker is running");
    await worker.run();
    log.info("Temporal worker stopped");
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

main().catch((error: unknown) => {
  // One line naming what is wrong, as operators see it in their process manager.
  process.stderr.write(`${error instanceof ConfigError ? `Invalid configuration: ${error.message}` : `Tasks worker failed: ${(error as Error).stack ?? error}`}\n`);
  process.exit(1);
});
