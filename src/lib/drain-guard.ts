// While the process drains (SIGTERM), writes are refused with 503 and Retry-After instead of being
// half-done by a process about to exit: callers retry, and a load balancer that already saw
// /readyz fail sends the retry to another instance. Reads keep working until the listener closes,
// and so does the model gateway, which the agents of steps still finishing call.
import type { IncomingMessage, ServerResponse } from "node:http";

export interface DrainGuardOptions {
  isDraining(): boolean;
  /** Paths that stay open while draining (the model gateway), by prefix. */
  openPrefixes: readonly string[];
  /** What Retry-After says: about how long until another instance (or this one, restarted) answers. */
  retryAfterSeconds: number;
}

const reads = new Set(["GET", "HEAD", "OPTIONS"]);

/** A Probot server handler, added before every other: it answers refused writes and lets the rest through. */
export function createDrainGuard(options: DrainGuardOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (!options.isDraining() || reads.has(req.method ?? "GET")) return false;
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (options.openPrefixes.some((prefix) => path.startsWith(prefix))) return false;
    // The body is not read: answering first and closing keeps a slow upload from holding the drain.
    res.writeHead(503, { "content-type": "application/json", "retry-after": String(options.retryAfterSeconds), connection: "close" });
    res.end(JSON.stringify({ error: { code: "draining", message: `Tasks is shutting down and accepts no writes; retry in ${options.retryAfterSeconds} seconds` } }));
    return true;
  };
}
