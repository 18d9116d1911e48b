// The Octokit plugin that hands an installation client's content-creating requests to the
// process's per-installation write scheduler. Reads, token mints and the app's own (JWT) calls go
// straight through: only writes count against GitHub's secondary limit, and a token mint queued
// behind the write that needs the token would never run.
import type { OctokitPlugin } from "./retry-after.ts";
import { markScheduledWrite } from "./scheduled-writes.ts";
import { hintOf } from "./write-hint.ts";
import { createWriteSchedulers, type WriteSchedulers } from "./write-scheduler.ts";

/** The process's queues: Octokit instances come and go per event and per call, the queues stay. */
const processWriteSchedulers = createWriteSchedulers();

/** Writes waiting in each installation's queue of this process (for /metrics). */
export const writeQueueDepths = (): Map<number, number> => processWriteSchedulers.depths();

interface RequestOptions {
  method: string;
  url: string;
  query?: unknown;
  request?: unknown;
  [parameter: string]: unknown;
}

export const scheduleWrites: OctokitPlugin = (octokit, options) => {
  const installationId = (options["auth"] as { installationId?: number | string } | undefined)?.installationId;
  // Throttling switched off (tests' clients): writes go straight out, as with the plugin's queues.
  if (installationId === undefined || (options["throttle"] as { enabled?: boolean } | undefined)?.enabled === false) return {};
  // Tests give a client a registry of its own (with a recorded sleep); production shares one.
  const schedulers = (options["writeSchedulers"] as WriteSchedulers | undefined) ?? processWriteSchedulers;
  octokit.hook.wrap("request", (request, requestOptions) => {
    const described = requestOptions as unknown as RequestOptions;
    const path = expandPath(described);
    if (!isContentCreating(described, path)) return request(requestOptions);
    const hint = hintOf(described);
    // Acknowledgements and progress say so (writeHint); anything else is publishing's bookkeeping.
    const priority = hint?.priority ?? "publish";
    markScheduledWrite(requestOptions);
    return schedulers.schedule(Number(installationId), {
      priority,
      ...(priority === "progress" && hint?.coalesceKey !== undefined ? { coalesceKey: hint.coalesceKey } : {}),
      send: async () => request(requestOptions),
      onRateLimited: (waitSeconds, retry) => octokit.log.warn(`GitHub rate limit on "${described.method} ${described.url}": installation ${installationId}'s writes pause ${waitSeconds} s (retry ${retry})`),
    });
  });
  return {};
};

/** The request's path with its parameters filled in (`/repos/{owner}/…` → `/repos/posthog/…`). */
function expandPath(options: RequestOptions): string {
  const pathname = new URL(options.url.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(String(options[name] ?? ""))), "http://github.test").pathname;
  return pathname.replace(/^\/api\/v3(?=\/)/, "");
}

function isContentCreating(options: RequestOptions, path: string): boolean {
  if (!["POST", "PATCH", "PUT", "DELETE"].includes(options.method)) return false;
  if (isTokenRequest(options.method, path)) return false;
  // GraphQL is always a POST; only a mutation writes.
  if (path === "/graphql") return /^\s*(?:#[^\n]*\n\s*)*mutation\b/.test(String(options.query ?? ""));
  return true;
}

/** Token mints and exchanges (the throttling plugin's list): they are what a write waits on. */
function isTokenRequest(method: string, path: string): boolean {
  return (
    (method === "PATCH" && /^\/applications\/[^/]+\/token\/scoped$/.test(path)) ||
    (method === "POST" && (/^\/applications\/[^/]+\/token$/.test(path) || /^\/app\/installations\/[^/]+\/access_tokens$/.test(path) || path === "/login/oauth/access_token"))
  );
}
