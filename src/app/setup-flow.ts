// First run without app credentials: register the GitHub App from app.yml through GitHub's
// manifest flow, then write APP_ID, PRIVATE_KEY and WEBHOOK_SECRET into .env (mode 0600).
// Probot ships such a flow but does not export it, and it would not know our GHES URLs.
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { parse } from "yaml";
import type { Logger } from "../lib/logger.ts";

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

export function createSetupFlow(deps: SetupFlowDeps) {
  const doFetch = deps.fetch ?? fetch;

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
      const manifest = JSON.stringify(buildManifest(deps));
      page(res, 200, "Set up Tasks", `<p>Tasks is running, but no GitHub App is configured yet.</p>
<p>Register one from this project's <code>app.yml</code> (permissions: issues, pull requests, checks and contents write; no workflows):</p>
<form action="${escapeHtml(deps.webUrl)}/settings/apps/new" method="post"><input type="hidden" name="manifest" value="${escapeHtml(manifest)}"><button type="submit">Register the GitHub App</button></form>
<p>To register it for an organization, post the same form to <code>${escapeHtml(deps.webUrl)}/organizations/&lt;org&gt;/settings/apps/new</code>.</p>`);
      return true;
    }
    if (req.method === "GET" && url.pathname === "/setup/callback") {
      const code = url.searchParams.get("code") ?? "";
      if (!/^[A-Za-z0-9_-]{1,200}$/.test(code)) {
        page(res, 400, "Setup failed", "<p>The callback has no valid <code>code</code> parameter.</p>");
        return true;
      }
      try {
        const app = await convert(code);
        let existing = "";
        try {
          existing = readFileSync(deps.envFile, "utf8");
        } catch {
          existing = "";
        }
        const env = mergeEnv(existing, { APP_ID: String(app.id), PRIVATE_KEY: app.pem, WEBHOOK_SECRET: app.webhook_secret });
        await writeFile(deps.envFile, env, { mode: 0o600 });
        deps.log.info({ appId: app.id, envFile: deps.envFile }, "GitHub App registered");
        page(res, 200, "GitHub App registered", `<p>App ${app.id} is registered and its credentials are in <code>${escapeHtml(deps.envFile)}</code>.</p>
<p>Restart Tasks (<code>npm start</code>), then <a href="${escapeHtml(app.html_url)}/installations/new">install the app</a> on your repositories.</p>`);
      } catch (error) {
        deps.log.error({ err: error }, "manifest conversion failed");
        page(res, 502, "Setup failed", "<p>GitHub did not convert the manifest. The code may have expired: start again.</p>");
      }
      return true;
    }
    return false;
  };
}
