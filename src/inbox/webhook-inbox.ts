// The inbox as the web process uses it: the ingress stores into it and wakes it, operators list
// and retry through it, and it prunes what it has processed once the retention period is over.
import type { WebhookDeliveryStatus, PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { createInboxProcessor, defaultInboxOptions, type DeliveryHandler, type InboxOptions } from "./inbox-processor.ts";
import { listDeliveries, pruneProcessed, rearmFailed, storeDelivery, type DeliveryView, type IncomingDelivery } from "../db/webhook-deliveries.ts";

export interface WebhookInboxDeps {
  db: PrismaClient;
  /** Runs one delivery's handlers (the server passes Probot's `receive`). */
  handle: DeliveryHandler;
  log: Logger;
  /** Processed deliveries older than this are deleted (TASKS_DELIVERY_RETENTION_DAYS). */
  retentionDays: number;
  /** Tests shorten the lease, the retry pauses and the poll. */
  options?: Partial<InboxOptions>;
  /** Counts each run of the handlers by outcome. */
  metrics?: Metrics;
}

const pruneEveryMs = 60 * 60 * 1000;

export function createWebhookInbox(deps: WebhookInboxDeps) {
  const { db, log } = deps;
  const options = { ...defaultInboxOptions, ...deps.options };
  const processor = createInboxProcessor({ db, handle: deps.handle, log, options, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  // Stored claimed by this process, waiting for their 202 to go out before they run.
  const claimedHere = new Set<string>();
  let pruning: NodeJS.Timeout | undefined;

  async function prune(): Promise<number> {
    const removed = await pruneProcessed(db, deps.retentionDays);
    if (removed > 0) log.info({ removed, retentionDays: deps.retentionDays }, "pruned processed webhook deliveries");
    return removed;
  }
  const pruneLogged = () => prune().catch((error: unknown) => log.warn({ err: error }, "could not prune processed webhook deliveries"));

  return {
    /** Stores a verified delivery; false when it is a duplicate that needs nothing more. */
    async store(delivery: IncomingDelivery): Promise<boolean> {
      const room = processor.reserve();
      const outcome = await storeDelivery(db, delivery, room ? { leaseMs: options.leaseMs } : undefined).catch((error: unknown) => {
        if (room) processor.release();
        throw error;
      });
      if (outcome === "claimed") claimedHere.add(delivery.id);
      else if (room) processor.release();
      if (outcome === "rearmed") log.info({ deliveryId: delivery.id }, "GitHub redelivered a delivery that had failed: it runs again now");
      return outcome !== "duplicate";
    },
    /** The answer has gone to GitHub: handle what was stored. */
    accepted(delivery: IncomingDelivery): void {
      if (claimedHere.delete(delivery.id)) processor.adopt({ id: delivery.id, event: delivery.event, payload: delivery.payload, attempts: 1 });
      else void processor.wake();
    },
    list: (query: { status?: WebhookDeliveryStatus | undefined; limit: number }): Promise<DeliveryView[]> => listDeliveries(db, query),
    async retry(id: string): Promise<DeliveryView> {
      const delivery = await rearmFailed(db, id);
      log.info({ deliveryId: id }, "an operator re-armed a failed webhook delivery");
      void processor.wake();
      return delivery;
    },
    prune,
    idle: processor.idle,
    /** Prunes, then picks up everything unprocessed (what a stopped or crashed process left). */
    async start(): Promise<void> {
      await pruneLogged();
      pruning = setInterval(() => void pruneLogged(), pruneEveryMs);
      pruning.unref();
      processor.start();
    },
    async stop(): Promise<void> {
      clearInterval(pruning);
      await processor.stop();
    },
  };
}

export type WebhookInbox = ReturnType<typeof createWebhookInbox>;
