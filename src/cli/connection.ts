// Where to send requests and with which token: options first, then the environment
// (through Config), then the token file the server writes on its first start.
import type { Config } from "../config.ts";
import { adminTokenPath, readAdminToken } from "../lib/admin-token.ts";
import type { Connection } from "./admin-client.ts";
import { CliError, usageError } from "./cli-error.ts";

export interface ConnectionOptions {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
}

export async function resolveConnection(options: ConnectionOptions, loadConfig: () => Config): Promise<Connection> {
  // Config is read only when an option leaves something open, so `--url --token` works
  // even where the server's environment is not set up.
  let config: Config | undefined;
  const getConfig = () => (config ??= loadConfig());
  const baseUrl = options.url === undefined ? `http://localhost:${getConfig().server.port}` : checkUrl(options.url);
  if (options.token !== undefined) return { baseUrl, token: options.token, tokenSource: "--token" };
  const fromEnv = getConfig().adminToken;
  if (fromEnv) return { baseUrl, token: fromEnv, tokenSource: "TASKS_ADMIN_TOKEN" };
  const dataDir = getConfig().dataDir;
  return { baseUrl, token: await readTokenFile(dataDir), tokenSource: adminTokenPath(dataDir) };
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--url must be an http(s) URL such as http://localhost:3000 (got ${JSON.stringify(url)})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw usageError(`--url must be an http(s) URL such as http://localhost:3000 (got ${JSON.stringify(url)})`);
  }
  return url.replace(/\/+$/, "");
}

async function readTokenFile(dataDir: string): Promise<string> {
  const file = adminTokenPath(dataDir);
  let token: string;
  try {
    token = await readAdminToken(dataDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw new CliError("config", "admin_token_unreadable", `cannot read the admin token from ${file}: ${(error as Error).message}`);
    token = "";
  }
  if (!token) {
    throw new CliError("config", "no_admin_token", `no admin token: start the server once or set TASKS_ADMIN_TOKEN (looked for ${file})`);
  }
  return token;
}
