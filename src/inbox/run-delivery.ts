// One run of one claimed delivery: the handlers, and on failure what it means — a retry after
// a pause, or failed for good with its reason. A success is left to the caller, which marks a
// burst of them processed at once.
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../lib/logger.ts";
import { markFailed, scheduleRetry, type ClaimedDelivery } from "../db/webhook-deliveries.ts";
import { describeFailure, willFailAgain } from "./retry-policy.ts";

/** One webhook event, as Probot's `receive` takes it. */
export interface InboxEvent {
  id: string;
  name: string;
  payload: unknown;
}

export type DeliveryHandler = (event: InboxEvent) => Promise<void>;

export type RunOutcome = { kind: "handled" } | { kind: "retry"; delayMs: number } | { kind: "failed" } | { kind: "unrecorded" };

export interface RunDeliveryDeps {
  db: PrismaClient;
  handle: DeliveryHandler;
  log: Logger;
  /** Pauses before the 2nd, 3rd … run; after the last run a failure is final. */
  retryDelaysMs: readonly number[];
}

export async function runDelivery(deps: RunDeliveryDeps, claim: ClaimedDelivery): Promise<RunOutcome> {
  const log = deps.log.child({ deliveryId: claim.id, event: claim.event, attempt: claim.attempts });
  const maxRuns = deps.retryDelaysMs.length + 1;
  try {
    // Each claim counts, so a delivery whose runs keep killing their process gives up too.
    if (claim.attempts > maxRuns) {
      await markFailed(deps.db, claim, `gave up after ${maxRuns} runs: the last one never finished (its process stopped or lost its lease)`);
      log.error("webhook delivery failed: its runs never finished");
      return { kind: "failed" };
    }
    try {
      await deps.handle({ id: claim.id, name: claim.event, payload: claim.payload });
      return { kind: "handled" };
    } catch (error) {
      return await recordFailure(deps, claim, error, log);
    }
  } catch (error) {
    log.error({ err: error }, "could not record a webhook delivery's outcome; it runs again when its lease runs out");
    return { kind: "unrecorded" };
  }
}

async function recordFailure(deps: RunDeliveryDeps, claim: ClaimedDelivery, error: unknown, log: Logger): Promise<RunOutcome> {
  const reason = describeFailure(error);
  const delayMs = deps.retryDelaysMs[claim.attempts - 1];
  if (delayMs === undefined || willFailAgain(error)) {
    await markFailed(deps.db, claim, reason);
    log.error({ err: error }, "webhook delivery failed for good; `tasks deliveries retry` runs it again");
    return { kind: "failed" };
  }
  await scheduleRetry(deps.db, claim, delayMs, reason);
  log.warn({ err: error, retryInMs: delayMs }, "webhook delivery failed; it will be retried");
  return { kind: "retry", delayMs };
}
