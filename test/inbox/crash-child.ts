// The web process the inbox crash test kills: the real server (ingress, inbox, Probot
// handlers, API) on the database and fake GitHub the test names, with runs recorded rather
// than executed. It prints its URL once it listens, and stops cleanly on SIGTERM.
import { pino } from "pino";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/server.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";
import { TestOctokit } from "../helpers/test-octokit.ts";

const config = loadConfig(process.env);
const log = pino({ level: config.log.level }, pino.destination(2));
const server = await startServer(config, log, {
  orchestrator: createRecordingOrchestrator(),
  Octokit: TestOctokit,
  // A lease the restarted process outlives quickly: what the killed one held is claimed again.
  inbox: { leaseMs: 1_500, pollMs: 250 },
});
process.stdout.write(`listening ${server.url}\n`);
process.once("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
