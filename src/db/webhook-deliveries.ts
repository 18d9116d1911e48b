// The webhook inbox's rows (webhook_deliveries): every query of src/inbox/. Times are the
// database's clock (now()), never this process's, so several web processes on one PostgreSQL
// agree on what is due and whose lease has run out. The claim is one UPDATE … FOR UPDATE SKIP
// LOCKED: two processes never claim the same delivery, and neither waits for the other.
import { Prisma, type PrismaClient, type WebhookDeliveryStatus } from "../generated/prisma/client.ts";
import { AppError } from "../lib/errors.ts";

/** A delivery whose signature was verified, as the ingress hands it over. */
export interface IncomingDelivery {
  /** X-GitHub-Delivery. */
  id: string;
  /** X-GitHub-Event. */
  event: string;
  action: string | undefined;
  installationId: number | undefined;
  payload: object;
  /** The body GitHub sent, which `payload` was parsed from: stored as it is. */
  payloadJson: string;
}

/** A delivery claimed for one run. `attempts` counts this run and fences its updates. */
export interface ClaimedDelivery {
  id: string;
  event: string;
  payload: unknown;
  attempts: number;
}

/** What operators see (the admin API and `tasks deliveries`): everything but the payload. */
export interface DeliveryView {
  id: string;
  event: string;
  action: string | null;
  installation_id: number | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  received_at: string;
  processed_at: string | null;
}

type Db = PrismaClient;
const ms = (value: number) => Prisma.sql`(${Math.round(value)}::int * interval '1 millisecond')`;

// A delivery waiting for a retry, or one that gave up, runs again at once (a failed one with
// its attempts reset); one that is new, running or done is left alone.
const rearmable = Prisma.sql`(webhook_deliveries.status = 'failed' OR (webhook_deliveries.status = 'pending' AND webhook_deliveries.attempts > 0))`;
const rearm = Prisma.sql`status = 'pending', next_attempt_at = now(),
  attempts = CASE WHEN webhook_deliveries.status = 'failed' THEN 0 ELSE webhook_deliveries.attempts END`;
const due = Prisma.sql`((status = 'pending' AND next_attempt_at <= now()) OR (status = 'processing' AND lease_expires_at <= now()))`;

/**
 * The payload as jsonb: the body GitHub sent, as it is — the ingress parsed it already, and
 * serialising it again would cost the answer time. jsonb cannot hold U+0000, which an issue body
 * may: only then is it serialised again, with U+FFFD in its place, rather than refuse the delivery.
 */
function toJsonb({ payload, payloadJson }: IncomingDelivery): string {
  if (!payloadJson.includes("\\u0000")) return payloadJson;
  return JSON.stringify(payload, (_key, value: unknown) => (typeof value === "string" ? value.replaceAll("\0", "\uFFFD") : value));
}

/**
 * Stores a delivery in one statement. "duplicate" when this id is already stored and needs
 * nothing more (new, running or processed); a redelivery of a waiting or failed one re-arms it.
 * With `claimFor` a new delivery is stored already claimed by this process for its first run
 * ("claimed"), so a process with room runs it from memory without claiming it back.
 */
export async function storeDelivery(db: Db, delivery: IncomingDelivery, claimFor?: { leaseMs: number }): Promise<"stored" | "claimed" | "rearmed" | "duplicate"> {
  const claim = claimFor !== undefined;
  const rows = await db.$queryRaw<{ inserted: boolean }[]>`
    INSERT INTO webhook_deliveries (id, event, action, installation_id, payload, status, attempts, lease_expires_at)
    VALUES (${delivery.id}, ${delivery.event}, ${delivery.action ?? null}, ${delivery.installationId ?? null}::bigint, ${toJsonb(delivery)}::jsonb,
      ${claim ? "processing" : "pending"}::webhook_delivery_status, ${claim ? 1 : 0}::int, ${claim ? Prisma.sql`now() + ${ms(claimFor.leaseMs)}` : null})
    ON CONFLICT (id) DO UPDATE SET ${rearm} WHERE ${rearmable}
    RETURNING (xmax = 0) AS inserted`;
  const row = rows[0];
  return row === undefined ? "duplicate" : !row.inserted ? "rearmed" : claim ? "claimed" : "stored";
}

/** Claims up to `limit` due deliveries, oldest first, under a lease of `leaseMs`. */
export async function claimDue(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const rows = await db.$queryRaw<(ClaimedDelivery & { received_at: Date })[]>`
    UPDATE webhook_deliveries SET status = 'processing', attempts = attempts + 1, lease_expires_at = now() + ${ms(leaseMs)}
    WHERE id IN (SELECT id FROM webhook_deliveries WHERE ${due} ORDER BY received_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, event, payload, attempts, received_at`;
  return rows
    .sort((a, b) => a.received_at.getTime() - b.received_at.getTime())
    .map(({ id, event, payload, attempts }) => ({ id, event, payload, attempts }));
}

/** Extends the leases of deliveries this process is still running, in one statement. */
export async function renewLeases(db: Db, claims: readonly ClaimedDelivery[], leaseMs: number): Promise<void> {
  if (claims.length === 0) return;
  await db.$executeRaw`
    UPDATE webhook_deliveries SET lease_expires_at = now() + ${ms(leaseMs)}
    WHERE status = 'processing' AND (id, attempts) IN (${claimRuns(claims)})`;
}

/** (id, attempts) of each claim: an update applies only to the run that holds the claim. */
const claimRuns = (claims: readonly ClaimedDelivery[]) => Prisma.join(claims.map((claim) => Prisma.sql`(${claim.id}, ${claim.attempts}::int)`));

// Each outcome applies only to the run that claimed it: if its lease ran out and another
// process claimed the delivery again, the late outcome changes nothing (false is returned).

/**
 * Done, for several runs in one statement (a burst finishes many at once). The payload is
 * dropped at once: the handlers never need it again. Returns how many were still this run's.
 */
export async function markProcessed(db: Db, claims: readonly ClaimedDelivery[]): Promise<number> {
  if (claims.length === 0) return 0;
  return db.$executeRaw`
    UPDATE webhook_deliveries SET status = 'processed', processed_at = now(), payload = NULL, lease_expires_at = NULL
    WHERE status = 'processing' AND (id, attempts) IN (${claimRuns(claims)})`;
}

export async function scheduleRetry(db: Db, claim: ClaimedDelivery, delayMs: number, reason: string): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now() + ${ms(delayMs)}, lease_expires_at = NULL, last_error = ${reason}
    WHERE id = ${claim.id} AND status = 'processing' AND attempts = ${claim.attempts}`;
  return count === 1;
}

export async function markFailed(db: Db, claim: ClaimedDelivery, reason: string): Promise<boolean> {
  const count = await db.$executeRaw`
    UPDATE webhook_deliveries SET status = 'failed', lease_expires_at = NULL, last_error = ${reason}
    WHERE id = ${claim.id} AND status = 'processing' AND attempts = ${claim.attempts}`;
  return count === 1;
}

/** Milliseconds until the next delivery falls due (0: one is due now), or undefined when none waits. */
export async function msUntilDue(db: Db): Promise<number | undefined> {
  const rows = await db.$queryRaw<{ wait_ms: number | null }[]>`
    SELECT (EXTRACT(EPOCH FROM (min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE lease_expires_at END) - now())) * 1000)::float8 AS wait_ms
    FROM webhook_deliveries WHERE status IN ('pending', 'processing')`;
  const wait = rows[0]?.wait_ms;
  return wait === null || wait === undefined ? undefined : Math.max(0, wait);
}

/** Deletes processed deliveries older than the retention period; failed ones stay for operators. */
export async function pruneProcessed(db: Db, retentionDays: number): Promise<number> {
  return db.$executeRaw`
    DELETE FROM webhook_deliveries WHERE status = 'processed' AND processed_at < now() - (${retentionDays}::int * interval '1 day')`;
}

const viewSelect = {
  id: true, event: true, action: true, installationId: true, status: true, attempts: true,
  nextAttemptAt: true, lastError: true, receivedAt: true, processedAt: true,
} as const;

type ViewRow = Prisma.WebhookDeliveryGetPayload<{ select: typeof viewSelect }>;

function toView(row: ViewRow): DeliveryView {
  return {
    id: row.id,
    event: row.event,
    action: row.action,
    installation_id: row.installationId === null ? null : Number(row.installationId),
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? row.nextAttemptAt.toISOString() : null,
    last_error: row.lastError,
    received_at: row.receivedAt.toISOString(),
    processed_at: row.processedAt?.toISOString() ?? null,
  };
}

export async function listDeliveries(db: Db, query: { status?: WebhookDeliveryStatus | undefined; limit: number }): Promise<DeliveryView[]> {
  const rows = await db.webhookDelivery.findMany({
    where: query.status ? { status: query.status } : {},
    orderBy: [{ receivedAt: "desc" }, { id: "desc" }],
    take: query.limit,
    select: viewSelect,
  });
  return rows.map(toView);
}

/** An operator's retry: only a failed delivery runs again, with its attempts reset. */
export async function rearmFailed(db: Db, id: string): Promise<DeliveryView> {
  const count = await db.$executeRaw`UPDATE webhook_deliveries SET ${rearm} WHERE id = ${id} AND webhook_deliveries.status = 'failed'`;
  const row = await db.webhookDelivery.findUnique({ where: { id }, select: viewSelect });
  if (!row) throw new AppError("not_found", "delivery_not_found", `no webhook delivery ${JSON.stringify(id)}`);
  if (count === 0) throw new AppError("conflict", "delivery_not_failed", `delivery ${id} is ${row.status}: only a failed delivery can be retried`);
  return toView(row);
}
