// The Metrics of src/lib/metrics.ts in Prometheus' text format, with prom-client. Each server gets
// a registry of its own (never prom-client's global one), so several servers in one process —
// tests, the benchmarks — each count only their own traffic. Gauges read their sources on scrape.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { MetricSources, Metrics } from "./metrics.ts";

export interface PrometheusMetrics extends Metrics {
  /** The exposition text for GET /metrics. */
  text(): Promise<string>;
  readonly contentType: string;
}

const prefix = "tasks_";

export function createPrometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  const sources: Partial<MetricSources> = {};
  const registers = [registry];

  const webhookDeliveries = new Counter({
    name: `${prefix}webhook_deliveries_total`,
    help: "Requests to the webhook path, by event (unverified when the signature was not checked or wrong) and outcome (accepted, duplicate, or the refusal's error code)",
    labelNames: ["event", "outcome"] as const,
    registers,
  });
  const ingressSeconds = new Histogram({
    name: `${prefix}webhook_ingress_seconds`,
    help: "Time from a webhook request's arrival to its answer",
    labelNames: ["outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const webhookHandled = new Counter({
    name: `${prefix}webhook_handled_total`,
    help: "Runs of stored webhook deliveries' handlers, by event and outcome (handled, retry, failed, unrecorded)",
    labelNames: ["event", "outcome"] as const,
    registers,
  });
  const tasksCreated = new Counter({ name: `${prefix}tasks_created_total`, help: "Tasks created, by source (api, label, comment, cli)", labelNames: ["source"] as const, registers });
  const runsFinished = new Counter({ name: `${prefix}runs_finished_total`, help: "Task runs finished, by outcome (completed, failed, cancelled)", labelNames: ["outcome"] as const, registers });
  const stageSeconds = new Histogram({
    name: `${prefix}stage_step_seconds`,
    help: "Duration of a stage's agent or publish step, by stage key, step and outcome",
    labelNames: ["stage", "step", "outcome"] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 2700, 5400],
    registers,
  });
  const githubCalls = new Counter({ name: `${prefix}github_api_calls_total`, help: "GitHub API requests, by HTTP status (none: no answer)", labelNames: ["status"] as const, registers });
  const modelTokens = new Counter({ name: `${prefix}model_tokens_total`, help: "Model tokens used through the model gateway, by vendor and kind (input, output)", labelNames: ["vendor", "kind"] as const, registers });

  // The database being down must not fail the whole scrape (/readyz reports it): the last value stays.
  let lastInboxDepth = 0;
  new Gauge({
    name: `${prefix}inbox_depth`,
    help: "Webhook deliveries stored and not yet handled",
    registers,
    async collect() {
      if (!sources.inboxDepth) return;
      lastInboxDepth = await sources.inboxDepth().catch(() => lastInboxDepth);
      this.set(lastInboxDepth);
    },
  });
  new Gauge({
    name: `${prefix}runner_runs`,
    help: "The embedded runner's runs, by state (running, queued behind TASKS_CONCURRENCY)",
    labelNames: ["state"] as const,
    registers,
    collect() {
      if (!sources.runnerLoad) return;
      const load = sources.runnerLoad();
      this.set({ state: "running" }, load.running);
      this.set({ state: "queued" }, load.queued);
    },
  });
  new Gauge({
    name: `${prefix}github_write_queue_depth`,
    help: "GitHub writes waiting in an installation's write queue",
    labelNames: ["installation"] as const,
    registers,
    collect() {
      // Reset first: an installation whose queue is gone reports nothing rather than its last depth.
      this.reset();
      for (const [installation, depth] of sources.writeQueueDepths?.() ?? []) this.set({ installation: String(installation) }, depth);
    },
  });
  new Gauge({
    name: `${prefix}sandboxes_active`,
    help: "Sandboxes this process holds (created or reconnected, not yet killed)",
    registers,
    collect() {
      if (sources.activeSandboxes) this.set(sources.activeSandboxes());
    },
  });

  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    webhookReceived({ event, outcome, seconds }) {
      webhookDeliveries.inc({ event: event ?? "unverified", outcome });
      ingressSeconds.observe({ outcome }, seconds);
    },
    webhookHandled: ({ event, outcome }) => webhookHandled.inc({ event, outcome }),
    taskCreated: (source) => tasksCreated.inc({ source }),
    runFinished: (outcome) => runsFinished.inc({ outcome }),
    stageStepFinished: ({ stage, step, outcome, seconds }) => stageSeconds.observe({ stage, step, outcome }, seconds),
    githubCall: (status) => githubCalls.inc({ status: status === undefined ? "none" : String(status) }),
    modelTokens({ vendor, input, output }) {
      if (input > 0) modelTokens.inc({ vendor, kind: "input" }, input);
      if (output > 0) modelTokens.inc({ vendor, kind: "output" }, output);
    },
    observe: (more) => Object.assign(sources, more),
  };
}
