// `npm run bench:first-sign-of-life [-- --loads 0,4,16 --samples S --gap MS --limit L --db postgres|pglite]`
//
// How soon a new trigger is acknowledged while other tasks run. For each load N, a fresh world
// (bench/bench-world.ts) with the stand-in's secondary limit at L content-creating requests a
// minute (default 80, GitHub's), TASKS_CONCURRENCY above N, and N tasks kept running: each is an
// issue labelled `task` whose agent takes ~2 s a role, and a finished one is replaced by a new
// one. Once the N have started, S probes (default 20) are sent one after another, GAP ms apart
// (default 3,000, so the probes' own acknowledgements take under half the write budget): a signed
// `issues.labeled` for an issue titled "Probe …", whose agent answers at once. Measured, per
// probe, from sending the webhook to the stand-in receiving the 👀 reaction and the tracking
// comment. Prints p50 and p99 per N. A probe never acknowledged within 10 minutes fails the bench.
import { performance } from "node:perf_hooks";
import { trackingMarker } from "../src/github/tracking-comment-body.ts";
import { benchHeader, oneOf, parseBenchOptions, percentile, wholeNumber } from "./bench-helpers.ts";
import { benchAgentCommand, classifyCalls, createBenchWorld, type BenchWorld } from "./bench-world.ts";

const options = parseBenchOptions(
  "first-sign-of-life",
  { loads: { default: "0,4,16" }, samples: { default: "20" }, gap: { default: "3000" }, limit: { default: "80" }, db: { default: "postgres" } },
  "[--loads 0,4,16] [--samples S] [--gap MS] [--limit L (0: none)] [--db postgres|pglite]",
  (values) => {
    for (const load of values.loads.split(",")) wholeNumber("loads", load, 64, 0);
    wholeNumber("samples", values.samples, 1000);
    wholeNumber("gap", values.gap, 600_000, 0);
    wholeNumber("limit", values.limit, 100_000, 0);
    oneOf("db", values.db, ["postgres", "pglite"] as const);
  },
);

// Probes skip the agent's thinking, so they add little load of their own.
const agentCommand = `grep -q "Probe issue" "$TASK_PROMPT_FILE" || sleep 2\n${benchAgentCommand()}`;
const ackTimeoutMs = 600_000;

interface Sample {
  eyesMs: number;
  commentMs: number;
}

/** performance.now() at which the stand-in first received a matching call, once it has. */
async function arrival(world: BenchWorld, method: string, path: RegExp, match: (body: Record<string, unknown>) => boolean = () => true): Promise<number> {
  const deadline = Date.now() + ackTimeoutMs;
  while (Date.now() < deadline) {
    const call = world.github.calls.find((c) => c.method === method && path.test(c.path) && match(c.body));
    if (call?.at !== undefined) return call.at;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no ${method} ${path} within ${ackTimeoutMs / 1000} s`);
}

async function measureLoad(load: number, samples: number, gapMs: number, limit: number, db: "postgres" | "pglite"): Promise<{ samples: Sample[]; refused: number; writes: number; finished: number }> {
  const world = await createBenchWorld({
    agentCommand,
    db,
    ...(limit > 0 ? { secondaryLimitPerMinute: limit } : {}),
    env: { TASKS_CONCURRENCY: String(Math.min(256, load + 8)) },
  });
  let stopped = false;
  let nextIssue = 100;
  let finished = 0;
  const keepRunning = async () => {
    while (!stopped) {
      const issue = nextIssue++;
      await world.send(world.labelDelivery(issue, `Load issue ${issue}`));
      await world.waitForFinish(issue, ackTimeoutMs, 500);
      finished += 1;
    }
  };
  const loops: Promise<void>[] = [];
  try {
    for (let slot = 0; slot < load; slot += 1) loops.push(keepRunning());
    // The load is on once each of the first N tasks has its tracking comment.
    for (let issue = 100; issue < 100 + load; issue += 1) {
      await arrival(world, "POST", new RegExp(`/issues/${issue}/comments$`), (body) => String(body["body"]).includes(trackingMarker));
    }
    const measured: Sample[] = [];
    for (let index = 0; index < samples; index += 1) {
      const issue = 10_000 + index;
      const { sentAt, status } = await world.send(world.labelDelivery(issue, `Probe issue ${issue}`));
      if (status !== 202) throw new Error(`probe ${issue} got ${status}`);
      const eyes = await arrival(world, "POST", new RegExp(`/issues/${issue}/reactions$`));
      const comment = await arrival(world, "POST", new RegExp(`/issues/${issue}/comments$`), (body) => String(body["body"]).includes(trackingMarker));
      measured.push({ eyesMs: eyes - sentAt, commentMs: comment - sentAt });
      process.stdout.write(".");
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    const writes = classifyCalls(world.github.calls).writes.length;
    return { samples: measured, refused: world.github.refused.length, writes, finished };
  } finally {
    stopped = true;
    // The loops end once their current task finishes; the world closes under them otherwise.
    await Promise.race([Promise.allSettled(loops), new Promise((resolve) => setTimeout(resolve, 20_000))]);
    await world.close();
  }
}

async function main(): Promise<number> {
  if (!options) return 2;
  const loads = options.loads.split(",").map(Number);
  const samples = Number(options.samples);
  const limit = Number(options.limit);
  const { command, machine } = benchHeader("first-sign-of-life");
  console.log(`${command}\n${machine}`);
  console.log(`${samples} probes per load, ${options.gap} ms apart; load tasks' agent ~2 s a role; stand-in secondary limit ${limit > 0 ? `${limit}/min` : "off"}; ${options.db}`);
  const rows: string[] = [];
  try {
    for (const load of loads) {
      process.stdout.write(`\nN = ${load} `);
      const started = performance.now();
      const result = await measureLoad(load, samples, Number(options.gap), limit, options.db as "postgres" | "pglite");
      const eyes = result.samples.map((s) => s.eyesMs).sort((a, b) => a - b);
      const comments = result.samples.map((s) => s.commentMs).sort((a, b) => a - b);
      const f = (value: number) => value.toFixed(0);
      rows.push(`| ${load} | ${f(percentile(eyes, 50))} | ${f(percentile(eyes, 99))} | ${f(percentile(comments, 50))} | ${f(percentile(comments, 99))} | ${result.finished} | ${result.writes} | ${result.refused} |`);
      process.stdout.write(` ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  } catch (error) {
    console.error(`\nbench:first-sign-of-life FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    if (rows.length > 0) {
      console.log(`\n\n| Tasks running (N) | 👀 p50 (ms) | 👀 p99 (ms) | Tracking comment p50 (ms) | Tracking comment p99 (ms) | Load tasks finished meanwhile | Writes answered | Refused (secondary limit) |`);
      console.log(`|---:|---:|---:|---:|---:|---:|---:|---:|`);
      for (const row of rows) console.log(row);
    }
  }
  return 0;
}

// Exits outright: load tasks cut short by closing the world may leave handles behind.
process.exit(await main());
