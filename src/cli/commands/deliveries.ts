// tasks deliveries [--failed] | tasks deliveries retry <id>: the webhook inbox, for operators.
import { takePositionals } from "../args.ts";
import { segment, type Command } from "../command.ts";
import { table } from "../output.ts";
import { parseLimit } from "./list.ts";

interface Delivery {
  id: string;
  event: string;
  action: string | null;
  status: "pending" | "processing" | "processed" | "failed";
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  received_at: string;
}

// The server's own bound for one listing.
const maxDeliveries = 200;

const eventName = (delivery: Delivery): string => (delivery.action ? `${delivery.event}.${delivery.action}` : delivery.event);

function render(deliveries: readonly Delivery[], failedOnly: boolean): string {
  if (deliveries.length === 0) return failedOnly ? "No failed deliveries." : "No deliveries.";
  return table(
    ["ID", "EVENT", "STATUS", "ATTEMPTS", "RECEIVED", "LAST ERROR"],
    deliveries.map((delivery) => [delivery.id, eventName(delivery), delivery.status, String(delivery.attempts), delivery.received_at, delivery.last_error ?? "-"]),
  );
}

export const deliveriesRetry: Command = {
  words: ["deliveries", "retry"],
  usage: "deliveries retry <id>",
  summary: "Run a failed GitHub webhook delivery again",
  options: [],
  prepare(args) {
    const [id] = takePositionals(args, ["id"]);
    return async (client) => {
      const delivery = await client.request<Delivery>("POST", `/api/admin/deliveries/${segment(id)}/retry`);
      return { json: delivery, human: `Delivery ${delivery.id} (${eventName(delivery)}) runs again now` };
    };
  },
};

export const deliveries: Command = {
  words: ["deliveries"],
  usage: "deliveries [--failed] [--limit <n>]",
  summary: "List GitHub webhook deliveries in the inbox, newest first",
  options: [
    { name: "failed", description: "only deliveries that gave up (run one again: tasks deliveries retry <id>)" },
    { name: "limit", value: "<n>", description: `at most this many, 1 to ${maxDeliveries} (default 50)` },
  ],
  prepare(args) {
    takePositionals(args, []);
    const failedOnly = args.values.failed ?? false;
    const query = new URLSearchParams();
    if (failedOnly) query.set("status", "failed");
    const limit = parseLimit(args.values.limit, maxDeliveries);
    if (limit !== undefined) query.set("limit", String(limit));
    return async (client) => {
      const page = await client.request<{ deliveries: Delivery[] }>("GET", `/api/admin/deliveries${query.size > 0 ? `?${query}` : ""}`);
      const failed = page.deliveries.filter((delivery) => delivery.status === "failed").length;
      const hint = failed > 0 ? `${failed} failed: run one again with tasks deliveries retry <id>` : undefined;
      return { json: page, human: render(page.deliveries, failedOnly), ...(hint ? { hint } : {}) };
    };
  },
};
