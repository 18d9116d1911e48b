// `npm run bench:orchestration [-- --files F --tasks T --db postgres|pglite]`
//
// Orchestration overhead of label → draft PR: the real server (embedded engine,
// TASKS_CONCURRENCY = T so the engine's cap is not what is measured), the local sandbox, an
// instant `command` agent, and a real git remote holding F files (default 5,000) behind the
// GitHub stand-in (bench/bench-world.ts). After one warm-up task, one task alone, then T (default
// 20) labelled at once. Each task is timed from sending its webhook to the stand-in receiving its
// PR creation. Prints median and worst per phase, the GitHub calls, and the peak RSS of this
// process, which hosts the server (and the stand-in, a small share of it). A task that does not
// open its PR fails the bench.
import { performance } from "node:perf_hooks";
import { benchHeader, median, oneOf, parseBenchOptions, wholeNumber } from "./bench-helpers.ts";
import { benchAgentCommand, classifyCalls, createBenchWorld, type BenchWorld } from "./bench-world.ts";

const options = parseBenchOptions(
  "orchestration",
  { files: { default: "5000" }, tasks: { default: "20" }, db: { default: "postgres" } },
  "[--files F] [--tasks T] [--db postgres|pglite]",
  (values) => {
    wholeNumber("files", values.files, 200_000, 0);
    wholeNumber("tasks", values.tasks, 256);
    oneOf("db", values.db, ["postgres", "pglite"] as const);
  },
);
const taskTimeoutMs = 900_000;

/** The highest RSS seen while `body` runs, sampled every 100 ms. */
async function withPeakRss<T>(body: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peakRss = process.memoryUsage.rss();
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  try {
    const result = await body();
    return { result, peakRss: Math.max(peakRss, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

/** Labels the issues at once; each one's milliseconds from webhook to PR creation at the stand-in. */
async function labelToPullRequest(world: BenchWorld, issues: number[]): Promise<number[]> {
  return Promise.all(
    issues.map(async (issue) => {
      const { sentAt, status } = await world.send(world.labelDelivery(issue));
      if (status !== 202) throw new Error(`the label of issue ${issue} got ${status}`);
      const done = await world.waitForFinish(issue, taskTimeoutMs, 250);
      const createdAt = done.prUrl ? world.pullCreatedAt(done.prUrl) : undefined;
      if (createdAt === undefined) throw new Error(`the task for issue ${issue} finished without a pull request`);
      return createdAt - sentAt;
    }),
  );
}

async function main(): Promise<number> {
  if (!options) return 2;
  const files = Number(options.files);
  const tasks = Number(options.tasks);
  const { command, machine } = benchHeader("orchestration");
  console.log(`${command}\n${machine}`);
  console.log(`label → draft PR; instant command agent, local sandbox, git remote of ${files} files; TASKS_CONCURRENCY=${tasks}; ${options.db}`);
  let world: BenchWorld | undefined;
  const rows: string[] = [];
  try {
    const setupStarted = performance.now();
    world = await createBenchWorld({ agentCommand: benchAgentCommand(), db: options.db as "postgres" | "pglite", files, env: { TASKS_CONCURRENCY: String(tasks) } });
    console.log(`world ready in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);
    await labelToPullRequest(world, [1]);
    const phases: [string, number[]][] = [
      ["one task alone", [2]],
      [`${tasks} at once`, Array.from({ length: tasks }, (_, index) => 100 + index)],
    ];
    for (const [name, issues] of phases) {
      const before = world.github.calls.length;
      const { result: times, peakRss } = await withPeakRss(() => labelToPullRequest(world!, issues));
      const { writes: written, reads: read } = classifyCalls(world.github.calls.slice(before));
      const writes = written.length;
      const reads = read.length;
      const s = (value: number) => (value / 1000).toFixed(1);
      const row = `| ${name} | ${s(median(times))} | ${s(Math.max(...times))} | ${(peakRss / 2 ** 20).toFixed(0)} | ${writes} / ${reads} |`;
      rows.push(row);
      console.log(`\n== ${name} ==\n  median ${s(median(times))} s, worst ${s(Math.max(...times))} s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, GitHub ${writes} writes / ${reads} reads`);
    }
    return 0;
  } catch (error) {
    console.error(`\nbench:orchestration FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    if (rows.length > 0) {
      console.log(`\n| Phase | Median label → PR (s) | Worst (s) | Peak RSS (MiB) | GitHub writes / reads |\n|---|---:|---:|---:|---:|`);
      for (const row of rows) console.log(row);
    }
    await world?.close();
  }
}

process.exitCode = await main();
