// The webhook ingress (ARCHITECTURE.md): verify the signature, dedupe on X-GitHub-Delivery,
// record the delivery, answer — and only then hand the event to the Probot handlers. GitHub
// gets its answer in milliseconds whatever the handlers do, and never a late 202.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EmitterWebhookEvent } from "@octokit/webhooks";
import type { Logger } from "../lib/logger.ts";

/** GitHub caps payloads at 25 MB. */
export const maxWebhookBytes = 25 * 1024 * 1024;

export interface WebhookIngressDeps {
  path: string;
  /** Undefined until the app is configured: every delivery is then refused. */
  secret: string | undefined;
  recordDelivery(delivery: { id: string; event: string; action: string | undefined }): Promise<boolean>;
  /** Forgets a delivery whose handling failed, so a redelivery from GitHub is handled again. */
  forgetDelivery(id: string): Promise<void>;
  dispatch(event: EmitterWebhookEvent): Promise<void>;
  log: Logger;
}

export interface WebhookIngress {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Resolves when every dispatched event has been handled (tests, shutdown). */
  idle(): Promise<void>;
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

export function createWebhookIngress(deps: WebhookIngressDeps): WebhookIngress {
  const inFlight = new Set<Promise<void>>();

  async function accept(req: IncomingMessage): Promise<{ status: number; body: Record<string, unknown>; event?: EmitterWebhookEvent }> {
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
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString("utf8"));
    } catch {
      throw new IngressError(400, "invalid_json", "the payload is not valid JSON");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      throw new IngressError(400, "invalid_payload", "the payload must be a JSON object");
    }
    const action = typeof (payload as { action?: unknown }).action === "string" ? (payload as { action: string }).action : undefined;
    if (!(await deps.recordDelivery({ id, event: name, action }))) return { status: 200, body: { status: "duplicate" } };
    return { status: 202, body: { status: "accepted" }, event: { id, name, payload } as EmitterWebhookEvent };
  }

  function dispatchLater(event: EmitterWebhookEvent): void {
    const log = deps.log.child({ deliveryId: event.id, event: event.name });
    const work = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => deps.dispatch(event))
      .catch(async (error: unknown) => {
        log.error({ err: error }, "webhook handler failed; a redelivery will be handled again");
        await deps.forgetDelivery(event.id).catch((forgetError: unknown) => log.error({ err: forgetError }, "could not forget the failed delivery"));
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  }

  return {
    async handle(req, res) {
      if ((req.url ?? "").split("?")[0] !== deps.path) return false;
      try {
        const outcome = await accept(req);
        reply(res, outcome.status, outcome.body);
        if (outcome.event) dispatchLater(outcome.event);
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
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
