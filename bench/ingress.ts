// `npm run bench:ingress [-- --deliveries N --concurrency C --db postgres|pglite|both]`
//
// Webhook ingress latency of the real server, with the durable inbox (one insert of the whole
// payload, handlers run from the inbox) against the same server recording only the delivery id
// (handlers run in memory, as before the inbox), side by side in one run, on PostgreSQL and on
// PGlite. For each database and store a fresh database is used; after a warm-up of 50, C
// clients on loopback send N signed `issues.labeled` deliveries (a label no handler acts on, so
// GitHub is never called) one request at a time. Every answer must be a 202 and every delivery
// must be stored and handled afterwards: otherwise the run fails with a non-zero exit.
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { runIngress, type DatabaseKind, type IngressResult, type StoreMode } from "./ingress-run.ts";

const label: Record<DatabaseKind, string> = { postgres: "PostgreSQL", pglite: "PGlite" };
const storeLabel: Record<StoreMode, string> = { inbox: "durable inbox", "id-only": "id only (before)" };
const ms = (value: number) => value.toFixed(1);

function positiveInt(name: string, raw: string, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new Error(`--${name} must be a whole number from 1 to ${max} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { deliveries: { type: "string", default: "1000" }, concurrency: { type: "string", default: "16" }, db: { type: "string", default: "both" } },
    strict: true,
    allowPositionals: false,
  });
  const db = values.db;
  if (db !== "postgres" && db !== "pglite" && db !== "both") throw new Error(`--db must be postgres, pglite or both (got ${JSON.stringify(db)})`);
  return {
    deliveries: positiveInt("deliveries", values.deliveries, 20_000),
    concurrency: positiveInt("concurrency", values.concurrency, 256),
    databases: (db === "both" ? ["postgres", "pglite"] : [db]) as DatabaseKind[],
  };
}

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

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`bench:ingress: ${(error as Error).message}`);
    console.error("usage: npm run bench:ingress -- [--deliveries N] [--concurrency C] [--db postgres|pglite|both]");
    return 2;
  }
  const command = `npm run bench:ingress${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}`;
  console.log(`${command}\n${machine}`);
  console.log(`POST /api/github/webhooks × ${options.deliveries}, ${options.concurrency} concurrent clients; warm-up of 50`);

  const results: IngressResult[] = [];
  const failures: string[] = [];
  for (const kind of options.databases) {
    for (const mode of ["id-only", "inbox"] as const) {
      const name = `${label[kind]}, ${storeLabel[mode]}`;
      try {
        const result = await runIngress(kind, mode, options.deliveries, options.concurrency);
        results.push(result);
        console.log(`\n== ${name} ==\n  ${result.perSecond.toFixed(0)} deliveries/s, p50 ${ms(result.latency.p50)} ms, p95 ${ms(result.latency.p95)} ms, p99 ${ms(result.latency.p99)} ms, drained ${result.drainMs.toFixed(0)} ms after the last answer`);
        if (result.failures.length > 0) failures.push(`${name}: ${result.failures.length} answers were not 202, e.g. ${result.failures.slice(0, 3).join(" | ")}`);
        if (result.stored !== result.deliveries) failures.push(`${name}: ${result.stored} of ${result.deliveries} deliveries stored and handled`);
      } catch (error) {
        failures.push(`${name}: the run could not complete: ${(error as Error).stack ?? String(error)}`);
      }
    }
  }
  if (results.length > 0) console.log(`\n\`${command}\` (${machine}):\n\n${markdownTable(results)}`);
  if (failures.length > 0) {
    console.error(`\nbench:ingress FAILED:\n${failures.map((failure) => `  - ${failure}`).join("\n")}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
