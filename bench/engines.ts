// `npm run bench:engines [-- --tasks N --db pglite|postgres]`
//
// Each engine's own overhead per task: the embedded runner and Temporal (one in-process Worker on
// a Temporal dev server this bench starts from the `temporal` CLI on PATH or in .tools/bin),
// side by side in one run, each on a fresh database of the same kind (in-memory PGlite by
// default; `--db postgres` creates one on 127.0.0.1:5432). Both run the real activities over
// stage work that answers at once (the reviewer approves, nothing is published), and both get
// their tasks from the real TasksService's createAndRun, so the whole pipeline (plan → code →
// review → complete) runs and only its bookkeeping and scheduling cost anything. After a warm-up
// of 2, N tasks run one at a time; each is timed from createAndRun returning until the finish
// activity has recorded the run `completed`. A run that does not complete (or an engine that
// cannot start) fails the bench with a non-zero exit.
import { findTemporalServer } from "../test/temporal/temporal-server.ts";
import { benchHeader, median, oneOf, parseBenchOptions, wholeNumber } from "./bench-helpers.ts";
import { runEngine, startTemporal, warmUpTasks, type DatabaseKind, type EngineKind, type EngineResult, type TemporalHarness } from "./engines-run.ts";

const engineLabel: Record<EngineKind, string> = { embedded: "embedded runner", temporal: "Temporal (dev server, 1 in-process worker)" };
const dbLabel: Record<DatabaseKind, string> = { postgres: "PostgreSQL", pglite: "PGlite (memory)" };
const ms = (value: number) => value.toFixed(1);

const parsed = parseBenchOptions("engines", { tasks: { default: "20" }, db: { default: "pglite" } }, "[--tasks N] [--db pglite|postgres]", (values) => {
  wholeNumber("tasks", values.tasks, 1000);
  oneOf("db", values.db, ["pglite", "postgres"] as const);
});
const options = parsed && { tasks: Number(parsed.tasks), db: parsed.db as DatabaseKind };

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function summary(r: EngineResult) {
  return { median: median(r.completeMs), mean: mean(r.completeMs), worst: Math.max(...r.completeMs), create: median(r.createMs) };
}

function markdownTable(results: EngineResult[]): string {
  const lines = [
    "| Engine | Database | Tasks | Median to completed (ms) | Mean (ms) | Worst (ms) | createAndRun itself, median (ms) |",
    "|---|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    const s = summary(r);
    lines.push(`| ${engineLabel[r.engine]} | ${dbLabel[r.kind]} | ${r.completeMs.length} | ${ms(s.median)} | ${ms(s.mean)} | ${ms(s.worst)} | ${ms(s.create)} |`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  if (!options) return 2;
  // An address from the environment would measure someone else's server: only a CLI this bench starts.
  const server = findTemporalServer({ PATH: process.env["PATH"] });
  if (server?.kind !== "cli") {
    console.error("bench:engines: no Temporal CLI to start a dev server with: put `temporal` on PATH, or run `node scripts/ensure-tools.mjs` (installs it into .tools/bin)");
    return 1;
  }

  const { command, machine } = benchHeader("engines");
  console.log(`${command}\n${machine}`);
  console.log(`${options.tasks} tasks per engine, one at a time, after a warm-up of ${warmUpTasks}; instant stage work; ${dbLabel[options.db]}; Temporal CLI ${server.path}`);

  const results: EngineResult[] = [];
  const failures: string[] = [];
  let temporal: TemporalHarness | undefined;
  try {
    for (const engine of ["embedded", "temporal"] as const) {
      try {
        // Started only now, so the embedded runner's numbers carry no idle Temporal server.
        if (engine === "temporal") temporal = await startTemporal(server.path);
        const result = await runEngine(engine, options.db, options.tasks, temporal);
        results.push(result);
        const s = summary(result);
        console.log(`\n== ${engineLabel[engine]} ==\n  to completed: median ${ms(s.median)} ms, mean ${ms(s.mean)} ms, worst ${ms(s.worst)} ms; createAndRun median ${ms(s.create)} ms`);
      } catch (error) {
        failures.push(`${engineLabel[engine]}: ${(error as Error).stack ?? String(error)}`);
      }
    }
  } finally {
    await temporal?.close();
  }
  if (results.length > 0) console.log(`\n\`${command}\` (${machine}):\n\n${markdownTable(results)}`);
  if (failures.length > 0) {
    console.error(`\nbench:engines FAILED:\n${failures.map((failure) => `  - ${failure}`).join("\n")}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
