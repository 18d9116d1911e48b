// `npm run bench:ingress [-- --deliveries N --concurrency C[,C…] --db postgres|pglite|both]`
//
// Webhook ingress latency of the real server, with the durable inbox (one insert of the whole
// payload, handlers run from the inbox) against the same server recording only the delivery id
// (handlers run in memory, as before the inbox), side by side in one run, on PostgreSQL and on
// PGlite, and against a bare Probot app that only verifies and answers (bare-probot-run.ts).
// The load rises: for each concurrency level (default 4, 16, 64) and each server a fresh
// database is used; after a warm-up of 50, C clients on loopback send N signed `issues.labeled`
// deliveries (a label no handler acts on, so GitHub is never called) one request at a time.
// Sustained throughput is the best level's. Every answer must be a 202 (200 from bare Probot)
// and every delivery must be stored and handled afterwards: otherwise the run fails.
import { benchHeader, oneOf, parseBenchOptions, wholeNumber } from "./bench-helpers.ts";
import { runBareProbot, type BareResult } from "./bare-probot-run.ts";
import { runIngress, type DatabaseKind, type IngressResult, type StoreMode } from "./ingress-run.ts";

const label: Record<DatabaseKind, string> = { postgres: "PostgreSQL", pglite: "PGlite" };
const storeLabel: Record<StoreMode, string> = { inbox: "durable inbox", "id-only": "id only (before)" };
const ms = (value: number) => value.toFixed(1);

const parsed = parseBenchOptions(
  "ingress",
  { deliveries: { default: "1000" }, concurrency: { default: "4,16,64" }, db: { default: "both" } },
  "[--deliveries N] [--concurrency C[,C…]] [--db postgres|pglite|both]",
  (values) => {
    wholeNumber("deliveries", values.deliveries, 20_000);
    for (const level of values.concurrency.split(",")) wholeNumber("concurrency", level, 256);
    oneOf("db", values.db, ["postgres", "pglite", "both"] as const);
  },
);
const options = parsed && {
  deliveries: Number(parsed.deliveries),
  levels: parsed.concurrency.split(",").map(Number),
  databases: (parsed.db === "both" ? ["postgres", "pglite"] : [parsed.db]) as DatabaseKind[],
};

function markdownTable(results: IngressResult[]): string {
  const lines = [
    "| Database | Store | Deliveries | Concurrency | Deliveries/s | p50 (ms) | p95 (ms) | p99 (ms) | Max (ms) | Drain after last answer (ms) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of results) {
    lines.push(
      `| ${label[r.kind]} | ${storeLabel[r.mode]} | ${r.deliveries} | ${r.concurrency} | ${r.perSecond.toFixed(0)} | ` +
        `${ms(r.latency.p50)} | ${ms(r.latency.p95)} | ${ms(r.latency.p99)} | ${ms(r.latency.max)} | ${r.drainMs.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

function bareTable(bare: BareResult[], ours: IngressResult[]): string {
  const lines = [
    "| Concurrency | Bare Probot deliveries/s | p50 (ms) | p99 (ms) | Ours, durable inbox, deliveries/s (PostgreSQL / PGlite) | Ratio ours/bare (PostgreSQL / PGlite) |",
    "|---:|---:|---:|---:|---:|---:|",
  ];
  for (const b of bare) {
    const mine = (kind: DatabaseKind) => ours.find((r) => r.kind === kind && r.mode === "inbox" && r.concurrency === b.concurrency);
    const rate = (kind: DatabaseKind) => mine(kind)?.perSecond.toFixed(0) ?? "–";
    const ratio = (kind: DatabaseKind) => (mine(kind) ? (mine(kind)!.perSecond / b.perSecond).toFixed(2) : "–");
    lines.push(`| ${b.concurrency} | ${b.perSecond.toFixed(0)} | ${ms(b.latency.p50)} | ${ms(b.latency.p99)} | ${rate("postgres")} / ${rate("pglite")} | ${ratio("postgres")} / ${ratio("pglite")} |`);
  }
  const best = (rates: number[]) => (rates.length > 0 ? Math.max(...rates) : Number.NaN);
  const bareBest = best(bare.map((b) => b.perSecond));
  for (const kind of ["postgres", "pglite"] as const) {
    const oursBest = best(ours.filter((r) => r.kind === kind && r.mode === "inbox").map((r) => r.perSecond));
    if (!Number.isNaN(oursBest)) lines.push(`\nSustained (best level): ours on ${label[kind]} ${oursBest.toFixed(0)}/s, bare Probot ${bareBest.toFixed(0)}/s: ratio ${(oursBest / bareBest).toFixed(2)}`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  if (!options) return 2;
  const { command, machine } = benchHeader("ingress");
  console.log(`${command}\n${machine}`);
  console.log(`POST /api/github/webhooks × ${options.deliveries} per level, at ${options.levels.join(", ")} concurrent clients (rising); warm-up of 50`);

  const results: IngressResult[] = [];
  const bare: BareResult[] = [];
  const failures: string[] = [];
  for (const concurrency of options.levels) {
    try {
      const result = await runBareProbot(options.deliveries, concurrency);
      bare.push(result);
      console.log(`\n== bare Probot, ${concurrency} clients ==\n  ${result.perSecond.toFixed(0)} deliveries/s, p50 ${ms(result.latency.p50)} ms, p99 ${ms(result.latency.p99)} ms`);
      if (result.failures.length > 0) failures.push(`bare Probot: ${result.failures.length} answers were not 200, e.g. ${result.failures.slice(0, 3).join(" | ")}`);
    } catch (error) {
      failures.push(`bare Probot: the run could not complete: ${(error as Error).stack ?? String(error)}`);
    }
    for (const kind of options.databases) {
      for (const mode of ["id-only", "inbox"] as const) {
        const name = `${label[kind]}, ${storeLabel[mode]}, ${concurrency} clients`;
        try {
          const result = await runIngress(kind, mode, options.deliveries, concurrency);
          results.push(result);
          console.log(`\n== ${name} ==\n  ${result.perSecond.toFixed(0)} deliveries/s, p50 ${ms(result.latency.p50)} ms, p95 ${ms(result.latency.p95)} ms, p99 ${ms(result.latency.p99)} ms, drained ${result.drainMs.toFixed(0)} ms after the last answer`);
          if (result.failures.length > 0) failures.push(`${name}: ${result.failures.length} answers were not 202, e.g. ${result.failures.slice(0, 3).join(" | ")}`);
          if (result.stored !== result.deliveries) failures.push(`${name}: ${result.stored} of ${result.deliveries} deliveries stored and handled`);
        } catch (error) {
          failures.push(`${name}: the run could not complete: ${(error as Error).stack ?? String(error)}`);
        }
      }
    }
  }
  if (results.length > 0) console.log(`\n\`${command}\` (${machine}):\n\n${markdownTable(results)}`);
  if (bare.length > 0) console.log(`\nAgainst a bare Probot app (createNodeMiddleware, verify and answer only):\n\n${bareTable(bare, results)}`);
  if (failures.length > 0) {
    console.error(`\nbench:ingress FAILED:\n${failures.map((failure) => `  - ${failure}`).join("\n")}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
