// What Tasks counts and measures, as one typed object the composition root creates per server
// and passes down through deps. Instrumented modules call these methods and never import
// prom-client; `noMetrics` is every deps' default, so code and tests that pass none are unchanged.
// Label values are bounded on purpose: event names, outcomes, sources, stage keys, HTTP statuses
// and installation ids, never a repository, a task or anything a user typed.

/** What became of a delivery at the ingress: stored, a repeat, or refused with the code it was answered. */
export type WebhookIngressOutcome = "accepted" | "duplicate" | "aborted" | "error" | (string & {});

/** What became of a stored delivery's run of the handlers (src/inbox/run-delivery.ts). */
export type WebhookHandledOutcome = "handled" | "retry" | "failed" | "unrecorded";

export type RunOutcome = "completed" | "failed" | "cancelled";

/** Values read when metrics are scraped, not pushed: each is registered where it is known. */
export interface MetricSources {
  /** Webhook deliveries stored and not yet handled (pending or being handled). */
  inboxDepth: () => Promise<number>;
  /** The embedded runner's runs executing now and queued behind TASKS_CONCURRENCY. */
  runnerLoad: () => { running: number; queued: number };
  /** GitHub writes waiting in each installation's write queue. */
  writeQueueDepths: () => ReadonlyMap<number, number>;
  /** Sandboxes this process created or reconnected and has not killed. */
  activeSandboxes: () => number;
}

export interface Metrics {
  /** A request to the webhook path was answered; `event` only when its signature was verified. */
  webhookReceived(delivery: { event: string | undefined; outcome: WebhookIngressOutcome; seconds: number }): void;
  webhookHandled(delivery: { event: string; outcome: WebhookHandledOutcome }): void;
  taskCreated(source: string): void;
  runFinished(outcome: RunOutcome): void;
  /** An agent or publish step of a stage ended, after `seconds`. */
  stageStepFinished(step: { stage: string; step: "agent" | "publish"; outcome: "ok" | "error"; seconds: number }): void;
  /** One GitHub API request answered (its HTTP status) or not answered at all (`status` undefined). */
  githubCall(status: number | undefined): void;
  modelTokens(usage: { vendor: string; input: number; output: number }): void;
  /** Registers values read at scrape time; a later registration of one replaces it. */
  observe(sources: Partial<MetricSources>): void;
}

const ignore = () => undefined;

export const noMetrics: Metrics = {
  webhookReceived: ignore,
  webhookHandled: ignore,
  taskCreated: ignore,
  runFinished: ignore,
  stageStepFinished: ignore,
  githubCall: ignore,
  modelTokens: ignore,
  observe: ignore,
};

/** Seconds since `startedAt` (performance.now()), for the duration metrics. */
export const secondsSince = (startedAt: number): number => (performance.now() - startedAt) / 1000;
