// `npm run bench:api [-- --tasks N --concurrency C --db postgres|pglite|both]`
//
// Task creation through the real HTTP API, on PostgreSQL (a fresh database, dropped after) and on
// PGlite (a fresh data directory, removed after). For each database the production server starts
// in-process, a team is seeded through the admin API, a short warm-up runs in a team of its own,
// then C clients create N tasks in the measured team, each sending one request at a time. Every
// response must be a 201 and the team's task numbers, read back page by page through
// GET /api/tasks, must be exactly 1..N: otherwise the run fails with a non-zero exit.
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { runDatabase, type DatabaseKind, type DatabaseResult } from "./api-run.ts";

interface Options {
  tasks: number;
  concurrency: number;
  databases: DatabaseKind[];
}

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`--${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "16" },
      db: { type: "string", default: "both" },
    },
    strict: true,
    allowPositionals: false,
  });
  const db = values.db;
  if (db !== "postgres" && db !== "pglite" && db !== "both") throw new Error(`--db must be postgres, pglite or both (got ${JSON.stringify(db)})`);
  return {
    tasks: positiveInt("tasks", values.tasks),
    concurrency: positiveInt("concurrency", values.concurrency),
    databases: db === "both" ? ["postgres", "pglite"] : [db],
  };
}

const label: Record<DatabaseKind, string> = { postgres: "PostgreSQL", pglite: "PGlite" };
const ms = (value: number) => value.toFixed(1);

function printBlock(result: DatabaseResult): void {
  const rows: [string, string][] = [
    ["server start", `${ms(result.startMs)} ms (open database, migrate, listen)`],
    ["tasks", String(result.tasks)],
    ["concurrency", String(result.concurrency)],
    ["wall time", `${(result.wallMs / 1000).toFixed(3)} s`],
    ["throughput", `${result.tasksPerSecond.toFixed(1)} tasks/s`],
    ["process CPU", `${(result.cpuShare * 100).toFixed(0)}% of one core (server and clients share this process)`],
    ["latency p50", `${ms(result.latency.p50)} ms`],
    ["latency p90", `${ms(result.latency.p90)} ms`],
    ["latency p99", `${ms(result.latency.p99)} ms`],
    ["latency max", `${ms(result.latency.max)} ms`],
    ["responses", Object.entries(result.statuses).map(([status, count]) => `${count} × ${status}`).join(", ")],
    ["gapless check", result.check.ok ? `OK: ${result.check.detail}` : `FAILED: ${result.check.detail}`],
  ];
  console.log(`\n== ${label[result.kind]} ==`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(14)} ${value}`);
  if (result.errors.length > 0) {
    console.log(`  errors         ${result.errorCount} request(s) did not return 201; the first ${result.errors.length}:`);
    for (const error of result.errors) console.log(`    #${error.request}: ${error.status} ${error.body}`);
  }
}

function markdownTable(results: DatabaseResult[]): string {
  const lines = [
    "| Database | Tasks | Concurrency | Wall time (s) | Tasks/s | p50 (ms) | p90 (ms) | p99 (ms) | Max (ms) | Errors | Numbers 1..N |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${label[r.kind]} | ${r.tasks} | ${r.concurrency} | ${(r.wallMs / 1000).toFixed(2)} | ${r.tasksPerSecond.toFixed(0)} | ` +
        `${ms(r.latency.p50)} | ${ms(r.latency.p90)} | ${ms(r.latency.p99)} | ${ms(r.latency.max)} | ${r.errorCount} | ${r.check.ok ? "gapless" : "**FAILED**"} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`bench:api: ${(error as Error).message}`);
    console.error("usage: npm run bench:api -- [--tasks N] [--concurrency C] [--db postgres|pglite|both]");
    return 2;
  }
  const command = `npm run bench:api${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}`;
  console.log(`${command}\n${machine}`);
  console.log(`POST /api/tasks × ${options.tasks}, ${options.concurrency} concurrent clients, one team; warm-up of 20 in another team`);

  const results: DatabaseResult[] = [];
  const failures: string[] = [];
  for (const kind of options.databases) {
    try {
      const result = await runDatabase(kind, options.tasks, options.concurrency);
      results.push(result);
      printBlock(result);
      if (result.errorCount > 0) failures.push(`${label[kind]}: ${result.errorCount} of ${result.tasks} requests did not return 201`);
      if (!result.check.ok) failures.push(`${label[kind]}: gapless check failed: ${result.check.detail}`);
    } catch (error) {
      failures.push(`${label[kind]}: the run could not complete: ${(error as Error).stack ?? String(error)}`);
      console.error(`\n== ${label[kind]} ==\n  FAILED: ${(error as Error).message}`);
    }
  }

  if (results.length > 0) console.log(`\n\`${command}\` (${machine}):\n\n${markdownTable(results)}`);
  if (failures.length > 0) {
    console.error(`\nbench:api FAILED:\n${failures.map((failure) => `  - ${failure}`).join("\n")}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
