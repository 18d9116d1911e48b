// Picks the sandbox adapter the configuration names. The E2B adapter is imported on first use
// (a dynamic import), so a server running local sandboxes never loads the E2B SDK.
import path from "node:path";
import { ConfigError, type Config } from "../config.ts";
import { createLocalSandboxProvider } from "./local-sandbox.ts";
import type { Sandbox, SandboxProvider, SandboxSpec } from "./sandbox.ts";

/** The template built from e2b.Dockerfile (see e2b.toml). */
export const DEFAULT_E2B_TEMPLATE = "tasks";

/**
 * Where an E2B sandbox may connect: the model gateway, which it reaches at TASKS_PUBLIC_URL,
 * and the operator's TASKS_EGRESS_ALLOW for setup commands. Nothing else.
 */
export function e2bAllowOut(config: Config): string[] {
  return [...new Set([new URL(config.server.publicUrl).hostname, ...config.sandbox.egressAllow])];
}

export function createSandboxProvider(config: Config): SandboxProvider {
  if (config.sandbox.kind === "local") {
    return createLocalSandboxProvider({ rootDir: path.join(config.dataDir, "workspaces") });
  }
  const apiKey = config.sandbox.e2bApiKey;
  if (!apiKey) throw new ConfigError("E2B_API_KEY", "required when TASKS_SANDBOX=e2b");
  const template = config.sandbox.e2bTemplate ?? DEFAULT_E2B_TEMPLATE;

  let adapter: Promise<SandboxProvider> | undefined;
  const load = (): Promise<SandboxProvider> => {
    adapter ??= import("./e2b-sandbox.ts").then(
      ({ createE2BSandboxProvider }) => createE2BSandboxProvider({ apiKey, template, allowOut: e2bAllowOut(config) }),
      (error: unknown) => {
        adapter = undefined; // a later call may try the import again
        throw error;
      },
    );
    return adapter;
  };
  return {
    kind: "e2b",
    create: async (spec: SandboxSpec): Promise<Sandbox> => (await load()).create(spec),
    connect: async (id: string, spec: SandboxSpec): Promise<Sandbox> => (await load()).connect(id, spec),
  };
}
