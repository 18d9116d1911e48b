// The ingress as it was before the durable inbox, for comparison only: it records the delivery
// id (the dedupe), answers, and runs the handlers in memory, where a crash loses them.
import type { DeliveryStore } from "../src/app/webhook-ingress.ts";
import type { Database } from "../src/db/open-database.ts";
import type { InboxEvent } from "../src/inbox/index.ts";

export interface IdOnlyStore extends DeliveryStore {
  /** Resolves when every handler started in memory has finished. */
  idle(): Promise<void>;
}

export function createIdOnlyStore(parts: { database: Database; handle: (event: InboxEvent) => Promise<void> }): IdOnlyStore {
  const inFlight = new Set<Promise<void>>();
  return {
    async store(delivery) {
      const inserted = await parts.database.prisma.$executeRaw`
        INSERT INTO webhook_deliveries (id, event, action, status, processed_at) VALUES (${delivery.id}, ${delivery.event}, ${delivery.action ?? null}, 'processed', now())
        ON CONFLICT (id) DO NOTHING`;
      return inserted === 1;
    },
    accepted(delivery) {
      const work = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => parts.handle({ id: delivery.id, name: delivery.event, payload: delivery.payload }))
        .catch(() => undefined)
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
