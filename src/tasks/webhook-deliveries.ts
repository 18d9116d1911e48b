import type { Db } from "./db-types.ts";

/**
 * Records a GitHub delivery once. Returns false when this X-GitHub-Delivery was seen before
 * (a redelivery or a concurrent copy): the primary key makes that decision atomic.
 */
export async function recordDelivery(db: Db, delivery: { id: string; event: string; action: string | undefined }): Promise<boolean> {
  const inserted = await db.$executeRaw`
    INSERT INTO webhook_deliveries (id, event, action) VALUES (${delivery.id}, ${delivery.event}, ${delivery.action ?? null})
    ON CONFLICT (id) DO NOTHING`;
  return inserted === 1;
}

export async function forgetDelivery(db: Db, id: string): Promise<void> {
  await db.webhookDelivery.deleteMany({ where: { id } });
}
