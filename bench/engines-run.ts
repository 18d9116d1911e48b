// One engine's run of bench/engines.ts: a fresh database, the real activities over instant stage
// work, the real TasksService handing each run to the engine. Tasks are created one at a time;
// each is timed from createAndRun returning to the finish activity having recorded it
// `completed`, and the next starts only once the engine is done with the last (cleanup run,
// workflow closed), so what is measured is one task's overhead, not throughput.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from "@temporalio/worker";
import { pino } from "pino";
import { createPipelineActivities } from "../src/activities/create-activities.ts";
import { openDatabase, type Database } from "../src/db/open-database.ts";
import type { PipelineActivities } from "../src/pipeline/activities.ts";
import type { Outcome } from "../src/pipeline/types.ts";
import { createEmbeddedRunner } from "../src/runner/embedded-runner.ts";
import { createLocalFlagChecker } from "../src/tasks/feature-flags.ts";
import type { Orchestrator } from "../src/tasks/orchestrator.ts";
import { createTasksService } from "../src/tasks/service.ts";
import { wrapActivities } from "../src/temporal/activities.ts";
import { createTemporalOrchestrator } from "../src/temporal/temporal-orchestrator.ts";
import { taskWorkflowId } from "../src/temporal/workflow-id.ts";
import { createEmptyPostgresDatabase, databaseUrl } from "../test/helpers/databases.ts";
import { dropWhenDisconnected } from "./bench-helpers.ts";
import { createInstantStageWork } from "./instant-stage-work.ts";

export type DatabaseKind = "postgres" | "pglite";
export type EngineKind = "embedded" | "temporal";

export interface EngineResult {
  engine: EngineKind;
  kind: DatabaseKind;
  /** createAndRun's own duration per measured task (it includes handing the run to the engine). */
  createMs: number[];
  /** From createAndRun returning to the run recorded `completed`, per measured task. */
  completeMs: number[];
}

/** A Temporal dev server this bench started, and the workflow code, bundled once. */
export interface TemporalHarness {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundle;
  close(): Promise<void>;
}

export const warmUpTasks = 2;
// A guard against a hung engine, not a measurement: an instant task takes milliseconds.
const taskTimeoutMs = 60_000;
const log = pino({ level: "silent" });
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const workflowsPath = fileURLToPath(new URL("../src/temporal/workflows.ts", import.meta.url));

export async function startTemporal(cli: string): Promise<TemporalHarness> {
  // The worker's INFO lines (state changes) would bury the bench's output; failures still show.
  Runtime.install({ logger: new DefaultLogger("WARN") });
  const env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: "existing-path", path: cli }, ip: "127.0.0.1", log: { format: "pretty", level: "error" } } });
  try {
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: silent });
    return { env, bundle, close: () => env.teardown() };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}

interface Finished {
  at: number;
  outcome: Outcome;
}

/** Notes when each task's finish activity has written its outcome, and lets a caller wait for it. */
function completionTracker() {
  const finished = new Map<string, Finished>();
  const waiters = new Map<string, (entry: Finished) => void>();
  return {
    hook(activities: PipelineActivities): PipelineActivities {
      return {
        ...activities,
        async finish(args) {
          await activities.finish(args);
          // A retried finish writes nothing new: the first one is when the run completed.
          if (finished.has(args.taskId)) return;
          const entry = { at: performance.now(), outcome: args.outcome };
          finished.set(args.taskId, entry);
          waiters.get(args.taskId)?.(entry);
        },
      };
    },
    wait(taskId: string): Promise<Finished> {
      const done = finished.get(taskId);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`task ${taskId} did not finish within ${taskTimeoutMs / 1000} s`)), taskTimeoutMs);
        waiters.set(taskId, (entry) => {
          clearTimeout(timer);
          waiters.delete(taskId);
          resolve(entry);
        });
      });
    },
  };
}

interface Engine {
  orchestrator: Orchestrator;
  /** Resolves once the engine has nothing left of the task. */
  settled(taskId: string): Promise<void>;
}

async function withEngine<T>(kind: EngineKind, database: Database, activities: PipelineActivities, temporal: TemporalHarness | undefined, body: (engine: Engine) => Promise<T>): Promise<T> {
  if (kind === "embedded") {
    const runner = createEmbeddedRunner({ db: database.prisma, activities, concurrency: 1, log });
    try {
      return await body({ orchestrator: runner, settled: () => runner.idle() });
    } finally {
      await runner.stop();
    }
  }
  if (!temporal) throw new Error("the Temporal engine needs a Temporal server");
  const { env, bundle } = temporal;
  // A queue of its own, so no workflow from an earlier run can reach this worker.
  const taskQueue = `tasks-bench-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, namespace: env.namespace ?? "default", taskQueue, workflowBundle: bundle, activities: wrapActivities(activities) });
  const orchestrator = createTemporalOrchestrator({ client: env.client, taskQueue });
  const settled = async (taskId: string) => {
    await env.client.workflow.getHandle(taskWorkflowId({ taskId, attempt: 1 })).result();
  };
  return worker.runUntil(body({ orchestrator, settled }));
}

async function withDatabase<T>(kind: DatabaseKind, body: (database: Database) => Promise<T>): Promise<T> {
  const name = kind === "postgres" ? await createEmptyPostgresDatabase() : undefined;
  try {
    const database = await openDatabase(name ? { kind: "postgres", url: databaseUrl(name) } : { kind: "pglite", dataDir: "memory://" });
    try {
      return await body(database);
    } finally {
      await database.close();
    }
  } finally {
    if (name) await dropWhenDisconnected(name);
  }
}

export function runEngine(engine: EngineKind, kind: DatabaseKind, count: number, temporal?: TemporalHarness): Promise<EngineResult> {
  return withDatabase(kind, async (database) => {
    const db = database.prisma;
    const flags = createLocalFlagChecker(db);
    const tracker = completionTracker();
    const activities = tracker.hook(createPipelineActivities({ db, flags, work: createInstantStageWork(), log }));
    return withEngine(engine, database, activities, temporal, async ({ orchestrator, settled }) => {
      const tasks = createTasksService({ db, flags, orchestrator, log });
      const team = await tasks.createTeam("Bench");
      await tasks.addTeamMember(team.id, { externalId: "bench-user" });
      await tasks.addIntegration(team.id, { installationId: 1, repositories: ["bench/engines"] });

      async function oneTask(title: string): Promise<{ createMs: number; completeMs: number }> {
        const started = performance.now();
        const { task } = await tasks.createAndRun({ teamId: team.id, title, description: "instant", originProduct: "user_created", userId: "bench-user", repository: "bench/engines" });
        const returned = performance.now();
        const finished = await tracker.wait(task.id);
        if (finished.outcome.status !== "completed") {
          throw new Error(`${task.slug} ended ${finished.outcome.status}${finished.outcome.status === "failed" ? `: ${finished.outcome.reason}` : ""}`);
        }
        await settled(task.id);
        const run = await db.taskRun.findFirstOrThrow({ where: { taskId: task.id } });
        if (run.status !== "completed" || run.engine !== orchestrator.engine) {
          throw new Error(`${task.slug}: its run is ${run.status} on ${run.engine ?? "no engine"}, expected completed on ${orchestrator.engine}`);
        }
        return { createMs: returned - started, completeMs: finished.at - returned };
      }

      for (let index = 1; index <= warmUpTasks; index += 1) await oneTask(`Warm-up ${index}`);
      const result: EngineResult = { engine, kind, createMs: [], completeMs: [] };
      for (let index = 1; index <= count; index += 1) {
        const timing = await oneTask(`Bench task ${index}`);
        result.createMs.push(timing.createMs);
        result.completeMs.push(timing.completeMs);
      }
      return result;
    });
  });
}
