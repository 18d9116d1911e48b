// The webhook ingress (ARCHITECTURE.md): verify the signature, store the delivery durably
// (deduped on X-GitHub-Delivery), answer — and only then let the inbox run the Probot
// handlers. GitHub gets its answer in milliseconds whatever the handlers do, never a late 202,
// and never a 202 for a delivery that a crash could still lose.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { IncomingDelivery } from "../inbox/index.ts";
import type { Logger } from "../lib/logger.ts";

/** GitHub caps payloads at 25 MB. */
export const maxWebhookBytes = 25 * 1024 * 1024;

export interface WebhookIngressDeps {
  path: string;
  /** Undefined until the app is configured: every delivery is then refused. */
  secret: string | undefined;
  store: DeliveryStore;
  log: Logger;
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
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  // Only sha256: the legacy X-Hub-Signature (sha1) alone is not accepted.
  const match = /^sha256=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, "hex"));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxWebhookBytes) throw new IngressError(413, "too_large", "payload larger than 25 MB");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxWebhookBytes) throw new IngressError(413, "too_large", "payload larger than 25 MB");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** The installation a delivery is for: only what GitHub's payload really says. */
function installationOf(payload: object): number | undefined {
  const id = (payload as { installation?: { id?: unknown } }).installation?.id;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

export function createWebhookIngress(deps: WebhookIngressDeps): WebhookIngress {
  async function accept(req: IncomingMessage): Promise<{ status: number; body: Record<string, unknown>; delivery?: IncomingDelivery }> {
    if (req.method !== "POST") throw new IngressError(405, "method_not_allowed", "webhooks are POSTed");
    const body = await readBody(req);
    if (!deps.secret) throw new IngressError(401, "not_configured", "the GitHub App is not configured (WEBHOOK_SECRET)");
    const signature = req.headers["x-hub-signature-256"];
    if (!verifySignature(deps.secret, body, Array.isArray(signature) ? signature[0] : signature)) {
      throw new IngressError(401, "bad_signature", "missing or invalid X-Hub-Signature-256");
    }
    const id = req.headers["x-github-delivery"];
    const name = req.headers["x-github-event"];
    if (typeof id !== "string" || !id || id.length > 100 || typeof name !== "string" || !/^[a-z_]{1,64}$/.test(name)) {
      throw new IngressError(400, "bad_headers", "X-GitHub-Delivery and X-GitHub-Event are required");
    }
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
    const action = typeof (payload as { action?: unknown }).action === "string" ? (payload as { action: string }).action : undefined;
    const delivery: IncomingDelivery = { id, event: name, action, installationId: installationOf(payload), payload, payloadJson };
    if (!(await deps.store.store(delivery))) return { status: 200, body: { status: "duplicate" } };
    return { status: 202, body: { status: "accepted" }, delivery };
  }

  return {
    async handle(req, res) {
      if ((req.url ?? "").split("?")[0] !== deps.path) return false;
      try {
        const outcome = await accept(req);
        try {
          reply(res, outcome.status, outcome.body);
        } finally {
          // Stored is stored: it is handled even if the answer could not be written.
          if (outcome.delivery) deps.store.accepted(outcome.delivery);
        }
      } catch (error) {
        if (error instanceof IngressError) {
          reply(res, error.status, { error: { code: error.code, message: error.message } });
        } else {
          deps.log.error({ err: error }, "webhook ingress failed");
          reply(res, 500, { error: { code: "internal", message: "internal error" } });
        }
      }
      return true;
    },
  };
}
