// inbox/ — the durable webhook inbox. It owns every GitHub delivery from the moment its
// signature is verified: stored with its payload in one insert before GitHub gets its 202, then
// claimed under a renewed lease, run through the handler it is given (Probot's `receive`),
// retried with exponential backoff a bounded number of times, and marked processed or failed
// with its reason. A process that dies mid-delivery leaves a lease that runs out, and the
// delivery runs again; a redelivery of a processed id is a no-op, of a failed one a retry.
// Processed deliveries lose their payload at once and their row after the retention period.
// Its queries live in inbox-store.ts only. Entry: webhook-inbox.ts.
export { createWebhookInbox, type WebhookInbox, type WebhookInboxDeps } from "./webhook-inbox.ts";
export type { InboxOptions } from "./inbox-processor.ts";
export type { InboxEvent } from "./run-delivery.ts";
export type { DeliveryView, IncomingDelivery } from "../db/webhook-deliveries.ts";
