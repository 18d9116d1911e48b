// Trigger throttles (trigger_throttles): a count per key in a window that starts with the first
// event and closes `windowMs` later. Each step is one atomic statement, so concurrent callers
// (two deliveries, two web processes) each get a different count and exactly one sees 1.
import type { Tx } from "./client.ts";

export interface WindowCount {
  /** Events in the current window, this one included. */
  count: number;
  /** When the window closes. */
  resetsAt: Date;
}

export async function countInWindow(db: Tx, key: string, now: Date, windowMs: number): Promise<WindowCount> {
  const fresh = { count: 0, windowStart: now, expiresAt: new Date(now.getTime() + windowMs) };
  // A closed window starts over; an open one is left as it is.
  await db.triggerThrottle.updateMany({ where: { key, expiresAt: { lte: now } }, data: fresh });
  // One INSERT … ON CONFLICT DO UPDATE (a unique key, no nested writes): insert-if-absent, else increment.
  const row = await db.triggerThrottle.upsert({
    where: { key },
    create: { key, ...fresh, count: 1 },
    update: { count: { increment: 1 } },
    select: { count: true, expiresAt: true },
  });
  return { count: row.count, resetsAt: row.expiresAt };
}

/** Drops windows that closed before `before`; a later event simply starts a new one. */
export async function deleteClosedThrottles(db: Tx, before: Date): Promise<number> {
  const { count } = await db.triggerThrottle.deleteMany({ where: { expiresAt: { lt: before } } });
  return count;
}
