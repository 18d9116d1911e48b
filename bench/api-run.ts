// One database's run of bench/api.ts: start the server on a fresh database, seed, warm up,
// create the tasks with concurrent clients, read them back and check the numbering.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { loadConfig } from "../src/config.ts";
import { startServer } from "../src/server.ts";
import { createRecordingOrchestrator } from "../test/helpers/recording-orchestrator.ts";
import { createEmptyPostgresDatabase, databaseUrl } from "../test/helpers/databases.ts";
import { dropWhenDisconnected, percentile } from "./bench-helpers.ts";
import { localServerEnv, seedTeam } from "../test/helpers/server.ts";

export type DatabaseKind = "postgres" | "pglite";

export interface RequestError {
  /** 1-based index of the request in the measured run. */
  request: number;
  status: number | "network error";
  body: string;
}

export interface DatabaseResult {
  kind: DatabaseKind;
  tasks: number;
  concurrency: number;
  startMs: number;
  wallMs: number;
  /** CPU time of this process (server and clients) during the measured run, as a share of one core. */
  cpuShare: number;
  tasksPerSecond: number;
  latency: { p50: number; p90: number; p99: number; max: number };
  /** Response count per status ("network error" for requests that got no response). */
  statuses: Record<string, number>;
  errorCount: number;
  /** The first few non-201 responses. */
  errors: RequestError[];
  check: { ok: boolean; detail: string };
}

const warmUpTasks = 20;
const shownErrors = 5;

// Resources to release if the run is interrupted (Ctrl-C) half way.
const cleanups = new Set<() => Promise<void>>();
process.once("SIGINT", () => {
  console.error("\ninterrupted: cleaning up");
  void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).then(() => process.exit(130));
});

interface LoadResult {
  wallMs: number;
  cpuShare: number;
  latencies: number[];
  statuses: Record<string, number>;
  errors: RequestError[];
  errorCount: number;
  /** Task numbers from the 201 bodies. */
  numbers: number[];
}

/** `concurrency` clients, each sending one POST /api/tasks at a time until `count` have been sent. */
async function createTasks(baseUrl: string, apiKey: string, count: number, concurrency: number): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const errors: RequestError[] = [];
  const numbers: number[] = [];
  let errorCount = 0;
  let issued = 0;

  const fail = (error: RequestError) => {
    errorCount += 1;
    if (errors.length < shownErrors) errors.push(error);
  };

  async function client(): Promise<void> {
    while (issued < count) {
      issued += 1;
      const request = issued;
      const body = JSON.stringify({
        title: `Bench task ${request}`,
        description: `Created by bench/api.ts, request ${request} of ${count}.`,
        origin_product: "user_created",
        user_id: "42",
        repository: "posthog/posthog",
      });
      const started = performance.now();
      let status: number | "network error";
      let text: string;
      try {
        // Node's global fetch (undici) keeps connections alive, so each client reuses its socket.
        const response = await fetch(`${baseUrl}/api/tasks`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body,
        });
        text = await response.text();
        status = response.status;
      } catch (error) {
        status = "network error";
        text = String((error as Error & { cause?: unknown }).cause ?? error);
      }
      latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 201) {
        fail({ request, status, body: text.slice(0, 500) });
        continue;
      }
      try {
        numbers.push((JSON.parse(text) as { number: number }).number);
      } catch {
        fail({ request, status, body: `unparsable body: ${text.slice(0, 500)}` });
      }
    }
  }

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => client()));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, cpuShare: (cpu.user + cpu.system) / 1000 / wallMs, latencies, statuses, errors, errorCount, numbers };
}

/** Every task number of the team, read back through the list API, 100 at a time. */
async function listNumbers(baseUrl: string, apiKey: string): Promise<{ numbers: number[]; pages: number }> {
  const numbers: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const response = await fetch(`${baseUrl}/api/tasks?${query}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /api/tasks?${query}: ${response.status} ${text.slice(0, 500)}`);
    const page = JSON.parse(text) as { tasks: { number: number }[]; next_cursor: string | null };
    numbers.push(...page.tasks.map((task) => task.number));
    cursor = page.next_cursor;
    pages += 1;
    if (pages > 100_000) throw new Error("GET /api/tasks: the cursor never ends");
  } while (cursor);
  return { numbers, pages };
}

/** Whether `numbers` is exactly 1..expected in some order; otherwise what is wrong with it. */
function exactRange(numbers: number[], expected: number): string | undefined {
  const seen = new Map<number, number>();
  for (const n of numbers) seen.set(n, (seen.get(n) ?? 0) + 1);
  const duplicates = [...seen].filter(([, times]) => times > 1).map(([n]) => n);
  const missing: number[] = [];
  for (let n = 1; n <= expected; n += 1) if (!seen.has(n)) missing.push(n);
  const outside = [...seen.keys()].filter((n) => !Number.isInteger(n) || n < 1 || n > expected);
  if (duplicates.length === 0 && missing.length === 0 && outside.length === 0 && numbers.length === expected) return undefined;
  const few = (list: number[]) => `${list.slice(0, 10).join(", ")}${list.length > 10 ? ` … (${list.length})` : ""}`;
  return [
    `${numbers.length} numbers for ${expected} tasks`,
    missing.length > 0 ? `missing ${few(missing)}` : "",
    duplicates.length > 0 ? `duplicated ${few(duplicates)}` : "",
    outside.length > 0 ? `outside 1..${expected}: ${few(outside)}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

export async function runDatabase(kind: DatabaseKind, tasks: number, concurrency: number): Promise<DatabaseResult> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `tasks-bench-${kind}-`));
  const removeDataDir = () => rm(dataDir, { recursive: true, force: true });
  cleanups.add(removeDataDir);
  let databaseName: string | undefined;
  const dropDatabase = async () => {
    if (databaseName) await dropWhenDisconnected(databaseName);
  };
  cleanups.add(dropDatabase);
  try {
    if (kind === "postgres") databaseName = await createEmptyPostgresDatabase();
    const config = loadConfig({
      ...(await localServerEnv(dataDir)),
      ...(databaseName ? { DATABASE_URL: databaseUrl(databaseName) } : {}),
    });
    if (config.database.kind !== kind) throw new Error(`expected a ${kind} configuration, got ${config.database.kind}`);

    const startedAt = performance.now();
    // Measures the creation path alone: runs are recorded, not executed, so no engine work
    // competes with the API for the two cores.
    const server = await startServer(config, pino({ level: "silent" }), { orchestrator: createRecordingOrchestrator() });
    const startMs = performance.now() - startedAt;
    const stopServer = () => server.close();
    cleanups.add(stopServer);
    try {
      // Warm-up in a team of its own, so the measured team's numbering starts at 1.
      const warmUp = await seedTeam(server.url, "Warm-up");
      const warm = await createTasks(server.url, warmUp.apiKey, warmUpTasks, concurrency);
      if (warm.errorCount > 0) {
        throw new Error(`warm-up: ${warm.errorCount} of ${warmUpTasks} requests did not return 201: ${warm.errors.map((e) => `${e.status} ${e.body}`).join(" | ")}`);
      }

      const team = await seedTeam(server.url, "PostHog");
      const load = await createTasks(server.url, team.apiKey, tasks, concurrency);

      const listed = await listNumbers(server.url, team.apiKey);
      const problems = [
        load.errorCount > 0 ? `${load.errorCount} of ${tasks} responses were not 201` : undefined,
        ((problem) => problem && `numbers in the 201 responses: ${problem}`)(exactRange(load.numbers, load.numbers.length)),
        ((problem) => problem && `numbers listed by GET /api/tasks: ${problem}`)(exactRange(listed.numbers, tasks)),
      ].filter((problem): problem is string => Boolean(problem));

      const sorted = [...load.latencies].sort((a, b) => a - b);
      return {
        kind,
        tasks,
        concurrency,
        startMs,
        wallMs: load.wallMs,
        cpuShare: load.cpuShare,
        tasksPerSecond: tasks / (load.wallMs / 1000),
        latency: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN },
        statuses: load.statuses,
        errorCount: load.errorCount,
        errors: load.errors,
        check:
          problems.length === 0
            ? { ok: true, detail: `numbers 1..${tasks}, no gaps or duplicates (${listed.numbers.length} tasks over ${listed.pages} page${listed.pages === 1 ? "" : "s"} of GET /api/tasks)` }
            : { ok: false, detail: problems.join("; ") },
      };
    } finally {
      cleanups.delete(stopServer);
      await stopServer();
    }
  } finally {
    cleanups.delete(dropDatabase);
    cleanups.delete(removeDataDir);
    await dropDatabase();
    await removeDataDir();
  }
}
