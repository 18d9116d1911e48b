// First run without app credentials: register the GitHub App from app.yml through GitHub's
// manifest flow, then write APP_ID, PRIVATE_KEY and WEBHOOK_SECRET into .env (mode 0600).
// Probot ships such a flow but does not export it, and it would not know our GHES URLs.
// The callback installs whatever App its code names, so it takes only a state this page issued,
// and nothing once an App is configured.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseEnv } from "node:util";
import { parse } from "yaml";
import type { Logger } from "../lib/logger.ts";
import { createSetupStates } from "./setup-state.ts";

export interface SetupFlowDeps {
  /** Base URL GitHub's browser redirect comes back to. */
  publicUrl: string;
  webUrl: string;
  apiUrl: string;
  webhookPath: string;
  webhookProxyUrl: string | undefined;
  manifestPath: string;
  envFile: string;
  log: Logger;
  fetch?: typeof fetch;
  /** Clock and lifetime of the one-time states (tests). */
  now?: () => number;
  stateTtlMs?: number;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action *" });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}button{font-size:1rem;padding:.5rem 1rem}code{background:#f3f3f3;padding:0 .2rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

export function buildManifest(deps: SetupFlowDeps): Record<string, unknown> {
  const manifest = parse(readFileSync(deps.manifestPath, "utf8")) as Record<string, unknown>;
  return {
    ...manifest,
    url: deps.publicUrl,
    redirect_url: `${deps.publicUrl}/setup/callback`,
    hook_attributes: { url: deps.webhookProxyUrl ?? `${deps.publicUrl}${deps.webhookPath}`, active: true },
  };
}

/** Replaces or appends KEY=value lines, keeping whatever else .env holds. */
export function mergeEnv(existing: string, values: Record<string, string>): string {
  const lines = existing.split("\n").filter((line) => line.trim() !== "" && !Object.keys(values).some((key) => line.startsWith(`${key}=`)));
  for (const [key, value] of Object.entries(values)) lines.push(`${key}=${JSON.stringify(value)}`);
  return `${lines.join("\n")}\n`;
}

function readEnvFile(envFile: string): string {
  try {
    return readFileSync(envFile, "utf8");
  } catch {
    return "";
  }
}

/** Whether .env already names an App: another process, or an earlier run, registered one. */
function envHoldsApp(envFile: string): boolean {
  try {
    return Boolean(parseEnv(readEnvFile(envFile)).APP_ID?.trim());
  } catch {
    // An .env we cannot parse is not ours to overwrite either.
    return true;
  }
}

export function createSetupFlow(deps: SetupFlowDeps) {
  const doFetch = deps.fetch ?? fetch;
  const states = createSetupStates({ ...(deps.now ? { now: deps.now } : {}), ...(deps.stateTtlMs ? { ttlMs: deps.stateTtlMs } : {}) });
  // Once this process has registered an App it stays refused, whatever later happens to .env.
  let registered = false;
  // Two callbacks with valid states must not both register an App and race on .env.
  let exchanging = false;
  const configured = () => registered || envHoldsApp(deps.envFile);
  const alreadyConfigured = (res: ServerResponse) =>
    page(res, 409, "Already configured", `<p>A GitHub App is already configured in <code>${escapeHtml(deps.envFile)}</code>. Restart Tasks (<code>npm start</code>) to use it.</p>
<p>To register another, remove <code>APP_ID</code> from that file and restart Tasks first.</p>`);

  async function convert(code: string): Promise<{ id: number; pem: string; webhook_secret: string; html_url: string }> {
    const response = await doFetch(`${deps.apiUrl}/app-manifests/${encodeURIComponent(code)}/conversions`, {
      method: "POST",
      headers: { accept: "application/vnd.github+json" },
    });
    if (!response.ok) throw new Error(`GitHub answered ${response.status} to the manifest conversion`);
    return (await response.json()) as { id: number; pem: string; webhook_secret: string; html_url: string };
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/setup")) {
      if (configured()) {
        alreadyConfigured(res);
        return true;
      }
      const manifest = JSON.stringify(buildManifest(deps));
      // GitHub passes `state` through to the redirect_url unchanged.
      const target = `/settings/apps/new?state=${states.issue()}`;
      page(res, 200, "Set up Tasks", `<p>Tasks is running, but no GitHub App is configured yet.</p>
<p>Register one from this project's <code>app.yml</code> (permissions: issues, pull requests, checks and contents write; no workflows):</p>
<form action="${escapeHtml(deps.webUrl + target)}" method="post"><input type="hidden" name="manifest" value="${escapeHtml(manifest)}"><button type="submit">Register the GitHub App</button></form>
<p>To register it for an organization, post the same form to <code>${escapeHtml(deps.webUrl)}/organizations/&lt;org&gt;${escapeHtml(target)}</code>. This page's link works once, within an hour.</p>`);
      return true;
    }
    if (req.method === "GET" && url.pathname === "/setup/callback") {
      if (configured()) {
        deps.log.warn("setup callback refused: a GitHub App is already configured");
        alreadyConfigured(res);
        return true;
      }
      if (exchanging) {
        page(res, 409, "Setup in progress", "<p>Another registration is being completed. Reload this server's page in a moment.</p>");
        return true;
      }
      const state = url.searchParams.get("state") ?? "";
      if (!state) {
        page(res, 400, "Setup failed", "<p>The callback has no <code>state</code> parameter. Start again from this server's setup page.</p>");
        return true;
      }
      const code = url.searchParams.get("code") ?? "";
      if (!/^[A-Za-z0-9_-]{1,200}$/.test(code)) {
        page(res, 400, "Setup failed", "<p>The callback has no valid <code>code</code> parameter.</p>");
        return true;
      }
      if (state.length > 200 || !states.consume(state)) {
        deps.log.warn("setup callback refused: unknown, expired or reused state");
        page(res, 403, "Setup refused", "<p>This link's <code>state</code> was not issued by this server, has expired or was already used. Start again from this server's setup page.</p>");
        return true;
      }
      exchanging = true;
      try {
        const app = await convert(code);
        const env = mergeEnv(readEnvFile(deps.envFile), { APP_ID: String(app.id), PRIVATE_KEY: app.pem, WEBHOOK_SECRET: app.webhook_secret });
        await writeFile(deps.envFile, env, { mode: 0o600 });
        registered = true;
        deps.log.info({ appId: app.id, envFile: deps.envFile }, "GitHub App registered");
        page(res, 200, "GitHub App registered", `<p>App ${app.id} is registered and its credentials are in <code>${escapeHtml(deps.envFile)}</code>.</p>
<p>Restart Tasks (<code>npm start</code>), then <a href="${escapeHtml(app.html_url)}/installations/new">install the app</a> on your repositories.</p>`);
      } catch (error) {
        deps.log.error({ err: error }, "manifest conversion failed");
        page(res, 502, "Setup failed", "<p>GitHub did not convert the manifest. The code may have expired: start again.</p>");
      } finally {
        exchanging = false;
      }
      return true;
    }
    return false;
  };
}
