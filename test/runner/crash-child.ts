// The process the crash test kills: an embedded runner over the real activities, whose stage
// work records its side effects in the database idempotently (look, then apply once).
import { pino } from "pino";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import type { StageWork } from "../../src/stage-work/stage-work.ts";
import { openDatabase } from "../../src/db/open-database.ts";
import { createEmbeddedRunner } from "../../src/runner/embedded-runner.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";

const settings = process.env["CRASH_DATABASE_URL"]
  ? ({ kind: "postgres", url: process.env["CRASH_DATABASE_URL"] } as const)
  : ({ kind: "pglite", dataDir: process.env["CRASH_PGLITE_DIR"]! } as const);
const database = await openDatabase(settings);
const db = database.prisma;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function applyOnce(key: string): Promise<void> {
  await db.$executeRaw`INSERT INTO crash_attempts (key) VALUES (${key})`;
  // Tells the test where the work is, so it can kill the process in the middle of a stage.
  process.stdout.write(`attempt ${key}\n`);
  await sleep(120); // the work itself: long enough for a kill to land in the middle of it
  await db.$executeRaw`INSERT INTO crash_effects (key) VALUES (${key}) ON CONFLICT (key) DO NOTHING`;
}

const work: StageWork = {
  async runAgent(request) {
    await applyOnce(`${request.runId}:${request.stage}:${request.iteration}`);
    return { verdict: request.role === "reviewer" ? "approve" : null, outputRef: null };
  },
  async publish(request) {
    await applyOnce(`${request.runId}:publish`);
    return { prUrl: `https://github.com/o/r/pull/${request.runId.slice(0, 8)}`, note: null };
  },
  async cleanup(run) {
    await db.$executeRaw`INSERT INTO crash_effects (key) VALUES (${`${run.runId}:cleanup`}) ON CONFLICT (key) DO NOTHING`;
  },
};

const log = pino({ level: process.env["CRASH_LOG_LEVEL"] ?? "silent" }, pino.destination(2));
const activities = createPipelineActivities({ db, flags: createLocalFlagChecker(db), work, log });
const runner = createEmbeddedRunner({ db, activities, concurrency: 2, log });
const resumed = await runner.resume();
process.stdout.write(`resumed ${resumed}\n`);
await runner.idle();
await database.close();
process.stdout.write("idle\n");
