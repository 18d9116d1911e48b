// `npm run bench:storms [-- --deliveries N --distinct D --concurrency C --db postgres|pglite]`
//
// A delivery storm through the real server: N signed `issues.labeled` deliveries for D distinct
// triggers (default 1,000 for 100: 90% duplicates), sent concurrently from C clients in a fixed
// shuffled order. Half of the duplicates are GitHub redeliveries (the same X-GitHub-Delivery id),
// half the same issue labelled again (a new id). Runs are recorded, not started, so what is
// measured is ingress, deduplication and each trigger's acknowledgement on the GitHub stand-in.
// Prints tasks created against distinct triggers (they must be equal: a mismatch is flagged) and
// the time until the inbox is empty.
import { performance } from "node:perf_hooks";
import { benchHeader, oneOf, parseBenchOptions, wholeNumber, type SignedDelivery } from "./bench-helpers.ts";
import { callsByRoute, classifyCalls, createBenchWorld, type BenchWorld } from "./bench-world.ts";

const options = parseBenchOptions(
  "storms",
  { deliveries: { default: "1000" }, distinct: { default: "100" }, concurrency: { default: "100" }, db: { default: "postgres" } },
  "[--deliveries N] [--distinct D] [--concurrency C] [--db postgres|pglite]",
  (values) => {
    const deliveries = wholeNumber("deliveries", values.deliveries, 20_000);
    wholeNumber("distinct", values.distinct, deliveries);
    wholeNumber("concurrency", values.concurrency, 1000);
    oneOf("db", values.db, ["postgres", "pglite"] as const);
  },
);

/** A small deterministic generator, so every run sends the same order. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

function storm(world: BenchWorld, total: number, distinct: number): SignedDelivery[] {
  const random = seeded(12);
  const firsts = Array.from({ length: distinct }, (_, index) => world.labelDelivery(1000 + index));
  const duplicates = Array.from({ length: total - distinct }, (_, index) => {
    const of = Math.floor(random() * distinct);
    return index % 2 === 0 ? firsts[of]! : world.labelDelivery(1000 + of);
  });
  const all = [...firsts, ...duplicates];
  for (let index = all.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [all[index], all[other]] = [all[other]!, all[index]!];
  }
  return all;
}

async function main(): Promise<number> {
  if (!options) return 2;
  const total = Number(options.deliveries);
  const distinct = Number(options.distinct);
  const concurrency = Number(options.concurrency);
  const { command, machine } = benchHeader("storms");
  console.log(`${command}\n${machine}\n${total} deliveries for ${distinct} distinct triggers, ${concurrency} concurrent clients, ${options.db}; runs recorded, not started`);
  let world: BenchWorld | undefined;
  try {
    world = await createBenchWorld({ agentCommand: "true", db: options.db as "postgres" | "pglite", runTasks: false });
    const before = world.github.calls.length;
    const deliveries = storm(world, total, distinct);
    const statuses = new Map<number, number>();
    let next = 0;
    const started = performance.now();
    const client = async () => {
      while (next < deliveries.length) {
        const { status } = await world!.send(deliveries[next++]!);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    const answered = performance.now() - started;
    await world.server.webhooksIdle();
    const drained = performance.now() - started;
    const tasks = await world.server.db.prisma.task.count();
    const pending = await world.server.db.prisma.webhookDelivery.count({ where: { status: { not: "processed" } } });
    world.github.calls.splice(0, before);
    const { writes, reads } = classifyCalls(world.github.calls);

    console.log(`\nanswers: ${[...statuses].map(([status, count]) => `${count} × ${status}`).join(", ")}`);
    console.log(`distinct triggers ${distinct}, tasks created ${tasks}${tasks === distinct ? "" : "  ← MISMATCH"}`);
    console.log(`all answered after ${(answered / 1000).toFixed(2)} s (${(total / (answered / 1000)).toFixed(0)} deliveries/s); inbox empty after ${(drained / 1000).toFixed(2)} s (${pending} deliveries not processed)`);
    console.log(`GitHub: ${writes.length} writes (${callsByRoute(writes).map(([route, count]) => `${count} × ${route}`).join(", ")}), ${reads.length} reads, ${world.github.refused.length} refused`);
    return 0;
  } catch (error) {
    console.error(`\nbench:storms FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await world?.close();
  }
}

process.exitCode = await main();
