// What the benchmarks share: option parsing, the machine line, signed deliveries, a percentile,
// and dropping a run's PostgreSQL database safely.
import { createHmac, randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { dropPostgresDatabase, withAdminClient } from "../test/helpers/databases.ts";

export type BenchOptionSpec = Record<string, { default: string }>;

/**
 * Parses `--name value` options (all strings, with defaults); on a bad option prints the error and
 * the usage line and returns undefined, so the caller exits 2.
 */
export function parseBenchOptions<S extends BenchOptionSpec>(bench: string, spec: S, usage: string, check: (values: Record<keyof S, string>) => void = () => undefined): Record<keyof S, string> | undefined {
  try {
    const options = Object.fromEntries(Object.entries(spec).map(([name, option]) => [name, { type: "string" as const, default: option.default }]));
    const { values } = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false });
    const parsed = values as Record<keyof S, string>;
    check(parsed);
    return parsed;
  } catch (error) {
    console.error(`bench:${bench}: ${(error as Error).message}`);
    console.error(`usage: npm run bench:${bench} -- ${usage}`);
    return undefined;
  }
}

/** A whole number from `min` to `max`, or an error naming the option. */
export function wholeNumber(name: string, raw: string, max: number, min = 1): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new Error(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** One of `choices`, or an error naming the option. */
export function oneOf<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(raw)) throw new Error(`--${name} must be ${choices.join(", ")} (got ${JSON.stringify(raw)})`);
  return raw as T;
}

/** The command as typed and the machine it ran on, printed first by every bench. */
export function benchHeader(bench: string): { command: string; machine: string } {
  const argv = process.argv.slice(2);
  const command = `npm run bench:${bench}${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "unknown CPU"}, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} at start`;
  return { command, machine };
}

export interface SignedDelivery {
  id: string;
  event: string;
  body: string;
  signature: string;
}

/** A delivery signed with `secret`, under a new id unless one is given (a redelivery keeps its id). */
export function signDelivery(secret: string, event: string, payload: unknown, id: string = randomUUID()): SignedDelivery {
  const body = JSON.stringify(payload);
  return { id, event, body, signature: `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` };
}

/** POSTs a signed delivery to a webhook URL as GitHub does; the status and body. */
export async function postDelivery(url: string, delivery: SignedDelivery): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-github-event": delivery.event, "x-github-delivery": delivery.id, "x-hub-signature-256": delivery.signature },
    body: delivery.body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Drops the run's database once the server's connections have gone. pg-pool's end() resolves
 * before its clients' sockets are closed, and DROP DATABASE … WITH (FORCE) terminating a
 * connection still open makes the pool emit an 'error' nobody listens to, which kills the
 * process; so wait for the backends to leave first (FORCE stays as a last resort).
 */
export async function dropWhenDisconnected(name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  await withAdminClient(async (admin) => {
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
      if (rows[0]?.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  await dropPostgresDatabase(name);
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
