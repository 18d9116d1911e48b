// The webhook ingress (ARCHITECTURE.md): verify the signature, store the delivery durably
// (deduped on X-GitHub-Delivery), answer — and only then let the inbox run the Probot
// handlers. GitHub gets its answer in milliseconds whatever the handlers do, never a late 202,
// and never a 202 for a delivery that a crash could still lose.
//
// Anyone can reach this endpoint, so a body costs memory only once its headers could be
// GitHub's (#11 finding 8): everything checkable from the headers is checked before a byte of
// the body is read, large bodies share a fixed budget, the HMAC is computed while the body
// streams in, and a body that stalls is dropped after a time limit.
import { createHmac, timingSafeEqual, type Hmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { IncomingDelivery } from "../inbox/index.ts";
import type { Logger } from "../lib/logger.ts";
import { noMetrics, secondsSince, type Metrics } from "../lib/metrics.ts";

/** GitHub caps payloads at 25 MB. */
export const maxWebhookBytes = 25 * 1024 * 1024;

/** How long an admitted body may take to arrive: a short or stalled body is not held longer. */
export const webhookBodyTimeoutMs = 30_000;

export interface IngressLimits {
  /** A body declaring more than this takes its declared length from the shared budget below. */
  largeBodyBytes: number;
  /** What large bodies being read may declare in total; beyond it a delivery gets 503 unread. */
  largeBodyBudgetBytes: number;
  bodyTimeoutMs: number;
}

// GitHub's deliveries are a few KB; a push with many commits may reach a few MB. Small bodies
// are not counted: each is bounded by its size and the time limit, and the budget keeps a flood
// of large ones from pushing them out.
export const defaultIngressLimits: IngressLimits = {
  largeBodyBytes: 1024 * 1024,
  largeBodyBudgetBytes: 64 * 1024 * 1024,
  bodyTimeoutMs: webhookBodyTimeoutMs,
};

/** Body bytes the ingress read into memory (tests and the benchmark read it). */
export interface IngressMeter {
  /** All body bytes read, since the ingress was created. */
  readBytes: number;
  /** Body bytes held by requests in flight now, and the most held at once. */
  heldBytes: number;
  peakHeldBytes: number;
}

export const newIngressMeter = (): IngressMeter => ({ readBytes: 0, heldBytes: 0, peakHeldBytes: 0 });

export interface WebhookIngressDeps {
  path: string;
  /** Undefined until the app is configured: every delivery is then refused. */
  secret: string | undefined;
  store: DeliveryStore;
  log: Logger;
  /** Defaults to defaultIngressLimits (tests shorten the time limit or shrink the budget). */
  limits?: Partial<IngressLimits>;
  /** Updated as bodies are read; a fresh one unless given. */
  meter?: IngressMeter;
  /** Counts each answer by event and outcome, and times it. */
  metrics?: Metrics;
}

/** Where verified deliveries go: the durable inbox (the benchmark also measures an id-only store). */
export interface DeliveryStore {
  /** Stores a verified delivery before it is acknowledged; false when it is a duplicate needing nothing. */
  store(delivery: IncomingDelivery): Promise<boolean>;
  /** Called once GitHub has its 202: start handling what was stored. */
  accepted(delivery: IncomingDelivery): void;
}

export interface WebhookIngress {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

class IngressError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/**
 * The digest of a well-formed X-Hub-Signature-256 value; only sha256 in lowercase hex, as GitHub
 * sends it (the legacy X-Hub-Signature, sha1, alone is not accepted).
 */
function signatureDigest(header: string | undefined): Buffer | undefined {
  const match = /^sha256=([0-9a-f]{64})$/.exec(header ?? "");
  return match ? Buffer.from(match[1]!, "hex") : undefined;
}

/** A header sent exactly once: two copies of a signature or delivery id are not GitHub's. */
function single(req: IncomingMessage, name: string): string | undefined {
  const values = req.headersDistinct[name];
  return values?.length === 1 ? values[0] : undefined;
}

// GitHub Apps send application/json. The form-encoded `payload=` variant (a repository webhook
// option) is refused rather than parsed: one format means one parser and one signed text to check.
function isJson(contentType: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(contentType ?? "");
}

interface Outcome {
  status: number;
  body: Record<string, unknown>;
  /** The verified event's name. */
  event: string;
  delivery?: IncomingDelivery;
}

interface Admitted {
  id: string;
  event: string;
  digest: Buffer;
  declared: number;
}

/** Everything the headers can tell, before the body is read. */
function admit(req: IncomingMessage, secret: string | undefined): Admitted {
  if (req.method !== "POST") throw new IngressError(405, "method_not_allowed", "webhooks are POSTed");
  if (!secret) throw new IngressError(401, "not_configured", "the GitHub App is not configured (WEBHOOK_SECRET)");
  if (!isJson(req.headers["content-type"])) throw new IngressError(415, "unsupported_media_type", "webhooks must be sent as application/json");
  // GitHub always sends Content-Length. A chunked body's size is known only once it has arrived,
  // so it could be neither refused as too large nor charged to the budget up front: 411.
  const length = req.headers["content-length"];
  if (length === undefined) throw new IngressError(411, "length_required", "Content-Length is required");
  const declared = Number(length);
  if (declared > maxWebhookBytes) throw new IngressError(413, "too_large", "payload larger than 25 MB");
  const digest = signatureDigest(single(req, "x-hub-signature-256"));
  if (!digest) throw new IngressError(401, "bad_signature", "missing or invalid X-Hub-Signature-256");
  const id = single(req, "x-github-delivery");
  const event = single(req, "x-github-event");
  if (!id || id.length > 100 || !event || !/^[a-z_]{1,64}$/.test(event)) {
    throw new IngressError(400, "bad_headers", "X-GitHub-Delivery and X-GitHub-Event are required, once each");
  }
  return { id, event, digest, declared };
}

/** Reads the body, hashing it as it arrives; a body that is not all there in time is dropped. */
async function readBody(req: IncomingMessage, hmac: Hmac, timeoutMs: number, held: (bytes: number) => void): Promise<Buffer> {
  const timer = setTimeout(() => req.destroy(new IngressError(408, "body_timeout", "the body did not arrive in time")), timeoutMs);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) {
      held((chunk as Buffer).length);
      hmac.update(chunk as Buffer);
      chunks.push(chunk as Buffer);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** The installation a delivery is for: only what GitHub's payload really says. */
function installationOf(payload: object): number | undefined {
  const id = (payload as { installation?: { id?: unknown } }).installation?.id;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function parsePayload(body: Buffer): { payload: object; payloadJson: string } {
  const payloadJson = body.toString("utf8");
  let payload: unknown;
  try {
    payload = JSON.parse(payloadJson);
  } catch {
    throw new IngressError(400, "invalid_json", "the payload is not valid JSON");
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new IngressError(400, "invalid_payload", "the payload must be a JSON object");
  }
  return { payload, payloadJson };
}

export function createWebhookIngress(deps: WebhookIngressDeps): WebhookIngress {
  const limits = { ...defaultIngressLimits, ...deps.limits };
  const meter = deps.meter ?? newIngressMeter();
  const metrics = deps.metrics ?? noMetrics;
  let reservedLargeBytes = 0;

  /** Takes a large body's declared length from the budget until `release`; small bodies are free. */
  function reserve(declared: number): () => void {
    if (declared <= limits.largeBodyBytes) return () => undefined;
    if (reservedLargeBytes + declared > limits.largeBodyBudgetBytes) {
      throw new IngressError(503, "busy", "too many large deliveries at once; retry later", { "retry-after": "5" });
    }
    reservedLargeBytes += declared;
    return () => (reservedLargeBytes -= declared);
  }

  async function record(id: string, event: string, body: Buffer): Promise<Outcome> {
    const { payload, payloadJson } = parsePayload(body);
    const action = typeof (payload as { action?: unknown }).action === "string" ? (payload as { action: string }).action : undefined;
    const delivery: IncomingDelivery = { id, event, action, installationId: installationOf(payload), payload, payloadJson };
    if (!(await deps.store.store(delivery))) return { status: 200, body: { status: "duplicate" }, event };
    return { status: 202, body: { status: "accepted" }, event, delivery };
  }

  async function accept(req: IncomingMessage): Promise<Outcome> {
    const { id, event, digest, declared } = admit(req, deps.secret);
    // Held until the delivery is stored: the parsed payload costs more than the raw bytes.
    const release = reserve(declared);
    let heldBytes = 0;
    try {
      const hmac = createHmac("sha256", deps.secret!);
      const body = await readBody(req, hmac, limits.bodyTimeoutMs, (bytes) => {
        heldBytes += bytes;
        meter.readBytes += bytes;
        meter.heldBytes += bytes;
        meter.peakHeldBytes = Math.max(meter.peakHeldBytes, meter.heldBytes);
      });
      if (!timingSafeEqual(hmac.digest(), digest)) throw new IngressError(401, "bad_signature", "missing or invalid X-Hub-Signature-256");
      return await record(id, event, body);
    } finally {
      release();
      meter.heldBytes -= heldBytes;
    }
  }

  return {
    async handle(req, res) {
      if ((req.url ?? "").split("?")[0] !== deps.path) return false;
      const startedAt = performance.now();
      // Only a verified delivery's event is counted by name: anyone can send any header.
      const count = (event: string | undefined, outcome: string) => metrics.webhookReceived({ event, outcome, seconds: secondsSince(startedAt) });
      try {
        const outcome = await accept(req);
        try {
          reply(res, outcome.status, outcome.body);
          count(outcome.event, outcome.delivery ? "accepted" : "duplicate");
        } finally {
          // Stored is stored: it is handled even if the answer could not be written.
          if (outcome.delivery) deps.store.accepted(outcome.delivery);
        }
      } catch (error) {
        // A refusal before the body was read closes the connection: otherwise Node would read
        // and discard the rest of the body to keep the connection alive, as long as the client sends.
        const close: Record<string, string> = req.complete ? {} : { connection: "close" };
        if (error instanceof IngressError) {
          if (error.status === 408) deps.log.warn({ delivery: req.headers["x-github-delivery"] }, "webhook body did not arrive in time; connection closed");
          reply(res, error.status, { error: { code: error.code, message: error.message } }, { ...error.headers, ...close });
          count(undefined, error.code);
        } else if (!req.complete) {
          // The client went away in the middle of the body: there is no one to answer.
          deps.log.warn({ err: error, delivery: req.headers["x-github-delivery"] }, "webhook body ended early");
          count(undefined, "aborted");
        } else {
          deps.log.error({ err: error }, "webhook ingress failed");
          reply(res, 500, { error: { code: "internal", message: "internal error" } });
          count(undefined, "error");
        }
      }
      return true;
    },
  };
}
