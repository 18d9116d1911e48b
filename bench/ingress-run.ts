// One run of bench/ingress.ts: the real server on a fresh database, with the durable inbox or
// with the id-only store, takes a burst of signed label deliveries from concurrent clients on
// loopback. Measured: how fast GitHub gets its answers, and how long the handlers take to drain.
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { loadConfig } from "../src/config.ts";
import { startServer } from "../src/server.ts";
import { issuesLabeled } from "../test/fixtures/webhooks.ts";
import { createEmptyPostgresDatabase, databaseUrl } from "../test/helpers/databases.ts";
import { createRecordingOrchestrator } from "../test/helpers/recording-orchestrator.ts";
import { localServerEnv } from "../test/helpers/server.ts";
import { dropWhenDisconnected, percentile } from "./bench-helpers.ts";
import { createIdOnlyStore, type IdOnlyStore } from "./id-only-store.ts";

export type DatabaseKind = "postgres" | "pglite";
export type StoreMode = "inbox" | "id-only";

export interface IngressResult {
  kind: DatabaseKind;
  mode: StoreMode;
  deliveries: number;
  concurrency: number;
  wallMs: number;
  perSecond: number;
  latency: { p50: number; p95: number; p99: number; max: number };
  /** From the last answer until every handler has run. */
  drainMs: number;
  /** Answers other than 202 (or network errors), with the first few bodies. */
  failures: string[];
  /** Measured deliveries found in webhook_deliveries afterwards (must be all of them). */
  stored: number;
}

export const secret = "bench-webhook-secret";
export const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const warmUp = 50;

interface Signed {
  id: string;
  body: string;
  signature: string;
}

/** Label deliveries that no handler acts on (another label), signed ahead of the clock. */
export function signedDeliveries(count: number, offset: number): Signed[] {
  return Array.from({ length: count }, (_, index) => {
    const body = JSON.stringify(issuesLabeled("bug", { issue: { number: offset + index + 1 } }));
    return { id: randomUUID(), body, signature: `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` };
  });
}

/** C clients on loopback, one request at a time each; an answer other than `accepted` is a failure. */
export async function send(url: string, deliveries: Signed[], concurrency: number, accepted: readonly number[] = [202]) {
  const latencies: number[] = [];
  const failures: string[] = [];
  let next = 0;
  async function client(): Promise<void> {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      const started = performance.now();
      try {
        const response = await fetch(`${url}/api/github/webhooks`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": delivery.id, "x-hub-signature-256": delivery.signature },
          body: delivery.body,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        if (!accepted.includes(response.status)) failures.push(`${response.status} ${text.slice(0, 200)}`);
      } catch (error) {
        failures.push(`network error: ${String((error as Error & { cause?: unknown }).cause ?? error)}`);
      }
      latencies.push(performance.now() - started);
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, deliveries.length) }, () => client()));
  return { wallMs: performance.now() - started, latencies, failures };
}

export async function runIngress(kind: DatabaseKind, mode: StoreMode, count: number, concurrency: number): Promise<IngressResult> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `tasks-bench-ingress-${kind}-`));
  const databaseName = kind === "postgres" ? await createEmptyPostgresDatabase() : undefined;
  try {
    const config = loadConfig({
      ...(await localServerEnv(dataDir)),
      APP_ID: "1",
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: secret,
      ...(databaseName ? { DATABASE_URL: databaseUrl(databaseName) } : {}),
    });
    let idOnly: IdOnlyStore | undefined;
    const server = await startServer(config, pino({ level: "silent" }), {
      orchestrator: createRecordingOrchestrator(),
      ...(mode === "id-only" ? { deliveryStore: (parts) => (idOnly = createIdOnlyStore(parts)) } : {}),
    });
    const drain = () => (idOnly ? idOnly.idle() : server.webhooksIdle());
    try {
      const warm = await send(server.url, signedDeliveries(warmUp, 0), concurrency);
      if (warm.failures.length > 0) throw new Error(`warm-up: ${warm.failures.slice(0, 3).join(" | ")}`);
      await drain();

      const measured = signedDeliveries(count, warmUp);
      const load = await send(server.url, measured, concurrency);
      const drainStarted = performance.now();
      await drain();
      const drainMs = performance.now() - drainStarted;
      const stored = await server.database.prisma.webhookDelivery.count({ where: { id: { in: measured.map((d) => d.id) }, status: "processed" } });
      const sorted = [...load.latencies].sort((a, b) => a - b);
      return {
        kind,
        mode,
        deliveries: count,
        concurrency,
        wallMs: load.wallMs,
        perSecond: count / (load.wallMs / 1000),
        latency: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN },
        drainMs,
        failures: load.failures,
        stored,
      };
    } finally {
      await server.close();
    }
  } finally {
    if (databaseName) await dropWhenDisconnected(databaseName);
    await rm(dataDir, { recursive: true, force: true });
  }
}
