// The baseline of bench/ingress.ts: a bare Probot app behind Probot's own createNodeMiddleware
// (verifyAndReceive, then the answer), with one `issues.labeled` handler that does nothing, on
// loopback. No database, no deduplication: what verifying and answering alone cost.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { createNodeMiddleware, Probot } from "probot";
import { percentile } from "./bench-helpers.ts";
import { privateKey, secret, send, signedDeliveries } from "./ingress-run.ts";

export interface BareResult {
  deliveries: number;
  concurrency: number;
  perSecond: number;
  latency: { p50: number; p95: number; p99: number; max: number };
  failures: string[];
  handled: number;
}

const warmUp = 50;

export async function runBareProbot(count: number, concurrency: number): Promise<BareResult> {
  let handled = 0;
  const probot = new Probot({ appId: 1, privateKey, secret, log: pino({ level: "silent" }) });
  const middleware = await createNodeMiddleware(
    (app) => {
      app.on("issues.labeled", async () => {
        handled += 1;
      });
    },
    { probot, webhooksPath: "/api/github/webhooks" },
  );
  const server = createServer((req, res) => {
    void middleware(req, res, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    // Probot answers 200 once its handlers have run.
    const accepted = [200, 202];
    const warm = await send(url, signedDeliveries(warmUp, 0), concurrency, accepted);
    if (warm.failures.length > 0) throw new Error(`warm-up: ${warm.failures.slice(0, 3).join(" | ")}`);
    handled = 0;
    const load = await send(url, signedDeliveries(count, warmUp), concurrency, accepted);
    const sorted = [...load.latencies].sort((a, b) => a - b);
    return {
      deliveries: count,
      concurrency,
      perSecond: count / (load.wallMs / 1000),
      latency: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN },
      failures: load.failures,
      handled,
    };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
