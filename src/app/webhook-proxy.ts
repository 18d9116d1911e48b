// WEBHOOK_PROXY_URL (smee.io) for local development: events GitHub sends to the channel are
// forwarded to our own ingress path, so they are verified and deduped like any delivery.
import type { Logger } from "../lib/logger.ts";

export async function startWebhookProxy(source: string, target: string, log: Logger): Promise<() => Promise<void>> {
  const { SmeeClient } = await import("smee-client");
  const client = new SmeeClient({
    source,
    target,
    logger: { info: (message: string) => log.info(message), error: (message: string) => log.error(message) },
  });
  await client.start();
  log.info({ source, target }, "forwarding webhooks from the proxy channel");
  return () => client.stop();
}
