// Runs stored deliveries through the handler: claims what is due (oldest first, a few at a
// time), holds each claim under a lease it renews while the handler runs, and records the
// outcome. A delivery stored while there is room is claimed by its own insert and run from
// memory (adopt); the rest wait in the table until a run finishes, a retry falls due, or the
// slow poll notices what other processes left behind (a lease that ran out when one died).
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../lib/logger.ts";
import { noMetrics, type Metrics } from "../lib/metrics.ts";
import { claimDue, markProcessed, msUntilDue, renewLeases, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { defaultRetryDelaysMs } from "./retry-policy.ts";
import { runDelivery, type DeliveryHandler } from "./run-delivery.ts";

export type { DeliveryHandler, InboxEvent } from "./run-delivery.ts";

export interface InboxOptions {
  /** Deliveries handled at once. */
  concurrency: number;
  /** How long a claim holds unless renewed; renewed every third of it while the handler runs. */
  leaseMs: number;
  /** Pauses before the 2nd, 3rd … run of a failing delivery; then it is marked failed. */
  retryDelaysMs: readonly number[];
  /** The longest the processor sleeps without looking at the table (other processes' work). */
  pollMs: number;
}

export const defaultInboxOptions: InboxOptions = { concurrency: 8, leaseMs: 60_000, retryDelaysMs: defaultRetryDelaysMs, pollMs: 10_000 };

export interface InboxProcessorDeps {
  db: PrismaClient;
  handle: DeliveryHandler;
  log: Logger;
  options: InboxOptions;
  metrics?: Metrics;
}

// When the only due deliveries are locked by another process's claim, look again shortly.
const contentionPauseMs = 20;

export function createInboxProcessor(deps: InboxProcessorDeps) {
  const { db, log, options } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const running = new Map<string, { claim: ClaimedDelivery; done: Promise<void> }>();
  // Handled, waiting to be marked processed: runs that end together are marked in one statement.
  const handled: ClaimedDelivery[] = [];
  // Room promised to deliveries the ingress is storing claimed by this process (see adopt).
  let reserved = 0;
  // Whether the table may hold due deliveries: cleared by a claim that found fewer than it
  // could take, set again by anything that may have made one due.
  let maybeDue = true;
  let started = false;
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let again = false;
  let pumpQueued = false;
  let timer: { at: number; handle: NodeJS.Timeout } | undefined;
  let renewal: NodeJS.Timeout | undefined;
  const active = () => started && !stopped;

  function wakeIn(delayMs: number): void {
    if (!active()) return;
    const at = Date.now() + delayMs;
    if (timer && timer.at <= at) return;
    if (timer) clearTimeout(timer.handle);
    const handle = setTimeout(() => {
      timer = undefined;
      void wake();
    }, delayMs);
    handle.unref();
    timer = { at, handle };
  }

  /** Something may be due now: look. */
  function wake(): Promise<void> {
    maybeDue = true;
    return pump();
  }

  function pump(): Promise<void> {
    if (!active()) return Promise.resolve();
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = pumpOnce()
      .catch((error: unknown) => {
        log.error({ err: error }, "could not claim webhook deliveries; trying again later");
        wakeIn(options.pollMs);
      })
      .finally(() => {
        pumping = undefined;
        if (again) void pump(); // a wake that came in after the last look is not lost
      });
    return pumping;
  }

  async function pumpOnce(): Promise<void> {
    do {
      again = false;
      await markHandled();
      const room = options.concurrency - running.size - reserved;
      if (room <= 0 || !maybeDue) break;
      maybeDue = false;
      const claims = await claimDue(db, room, options.leaseMs);
      for (const claim of claims) start(claim);
      if (claims.length === room) maybeDue = again = true; // there may be more
    } while (again && active());
    wakeIn(options.pollMs);
  }

  async function markHandled(): Promise<void> {
    if (handled.length === 0) return;
    const batch = handled.splice(0);
    try {
      const marked = await markProcessed(db, batch);
      if (marked < batch.length) log.warn({ lost: batch.length - marked }, "a webhook delivery's lease ran out while it was handled; another run owns it now");
    } catch (error) {
      log.error({ err: error, deliveryIds: batch.map((claim) => claim.id) }, "could not mark webhook deliveries processed; they run again when their leases run out");
    }
  }

  // Runs that end in one turn of the event loop are marked processed together.
  function pumpSoon(): void {
    if (pumpQueued) return;
    pumpQueued = true;
    setImmediate(() => {
      pumpQueued = false;
      void pump();
    });
  }

  function start(claim: ClaimedDelivery): void {
    const done = runDelivery({ db, handle: deps.handle, log, retryDelaysMs: options.retryDelaysMs }, claim).then((outcome) => {
      running.delete(claim.id);
      metrics.webhookHandled({ event: claim.event, outcome: outcome.kind });
      if (outcome.kind === "handled") handled.push(claim);
      if (outcome.kind === "retry") wakeIn(outcome.delayMs);
      if (running.size === 0) stopRenewing();
      pumpSoon();
    });
    running.set(claim.id, { claim, done });
    renewal ??= setInterval(() => {
      renewLeases(db, [...running.values()].map((entry) => entry.claim), options.leaseMs).catch((error: unknown) => log.warn({ err: error }, "could not renew webhook delivery leases"));
    }, options.leaseMs / 3).unref();
  }

  function stopRenewing(): void {
    clearInterval(renewal);
    renewal = undefined;
  }

  return {
    /** Looks for due deliveries now (a delivery was stored for later, or re-armed). */
    wake,
    /** Room for one more run, held for a delivery about to be stored claimed by this process. */
    reserve(): boolean {
      if (!active() || running.size + reserved >= options.concurrency) return false;
      reserved += 1;
      return true;
    },
    /** The reserved delivery was not stored claimed (a duplicate, a re-arm, an error). */
    release(): void {
      reserved -= 1;
    },
    /**
     * Runs a delivery stored claimed by this process from the payload in memory: the common
     * path costs no claim and no read. After stop() it is left to its lease, like a crash.
     */
    adopt(claim: ClaimedDelivery): void {
      reserved -= 1;
      if (!stopped) start(claim);
    },
    start(): void {
      started = true;
      void wake();
    },
    /** Resolves when nothing is in flight here and nothing is due now. */
    async idle(): Promise<void> {
      for (;;) {
        if (running.size > 0) await Promise.all([...running.values()].map((entry) => entry.done));
        else if (pumping) await pumping;
        else if (handled.length > 0) await (active() ? pump() : markHandled());
        else if (!active() || (await msUntilDue(db)) !== 0) {
          if (running.size === 0 && !pumping && handled.length === 0) return;
        } else {
          await wake();
          if (running.size === 0) await new Promise((resolve) => setTimeout(resolve, contentionPauseMs));
        }
      }
    },
    /** Stops claiming and waits for the handlers in flight. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer.handle);
      timer = undefined;
      await pumping;
      await Promise.all([...running.values()].map((entry) => entry.done));
      await markHandled();
      stopRenewing();
    },
  };
}

export type InboxProcessor = ReturnType<typeof createInboxProcessor>;
