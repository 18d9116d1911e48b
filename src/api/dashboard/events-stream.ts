// The dashboard's live updates: a server-sent event stream scoped to the viewer's team (and to
// one task on its page). It polls the database for a change marker rather than listening to an
// in-process emitter, so a change made by another process (a Temporal worker) shows up too.
// Events carry only the marker; the page fetches what changed through its own, scoped, GET.
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "../../lib/logger.ts";
import type { DashboardReads } from "../../tasks/dashboard-reads.ts";

export interface EventStreamOptions {
  reads: Pick<DashboardReads, "changeMarker">;
  log: Logger;
  /** How often the marker is read. */
  pollMs: number;
}

/** A stream is ended now and then (the browser reconnects at once), so none lives for ever. */
const streamLifetimeMs = 10 * 60_000;
const keepAliveMs = 15_000;

/** Waits, or less when the browser goes away. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

export function streamChanges(c: Context, options: EventStreamOptions, scope: { teamId: string; taskId?: string | undefined }) {
  return streamSSE(
    c,
    async (stream) => {
      const ended = new AbortController();
      stream.onAbort(() => ended.abort());
      const stopAt = Date.now() + streamLifetimeMs;
      let marker = await options.reads.changeMarker(scope.teamId, scope.taskId);
      let quietSince = Date.now();
      await stream.writeSSE({ event: "ready", data: marker, retry: 2000 });
      // On shutdown the server ends open connections (server.ts), which aborts the stream.
      while (!stream.aborted && Date.now() < stopAt) {
        await sleep(options.pollMs, ended.signal);
        if (stream.aborted) break;
        const next = await options.reads.changeMarker(scope.teamId, scope.taskId);
        if (next !== marker) {
          marker = next;
          quietSince = Date.now();
          await stream.writeSSE({ event: "changed", data: marker });
        } else if (Date.now() - quietSince >= keepAliveMs) {
          // A comment line keeps proxies from closing an idle stream.
          quietSince = Date.now();
          await stream.write(": keep-alive\n\n");
        }
      }
    },
    async (error) => {
      options.log.warn({ err: error }, "dashboard event stream ended with an error");
    },
  );
}
