// The sandbox the real-CLI tests run agents in: the bubblewrap-isolated local sandbox, built the
// way the server builds it (createSandboxProvider over a loaded Config), with the agent CLIs found
// on a PATH that holds `claude` and `codex` and nothing of the host's beyond the system dirs.
// The unisolated sandbox stays available for the one case that exercises Codex's own sandbox.
import { mkdir, mkdtemp, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.ts";
import { createSandboxProvider } from "../../src/sandbox/create-sandbox-provider.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { Sandbox, SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { claudeExecutable, codexExecutable } from "./agent-clis.ts";

export interface AgentSandboxOptions {
  /** Where run directories are made. */
  rootDir: string;
  /** The model gateway as the host reaches it. */
  gatewayUrl: string;
  runId: string;
  /** Unisolated: commands run as this process's user, on the host's network (TASKS_SANDBOX=unsafe-host). */
  unisolated?: boolean;
}

export interface AgentSandbox {
  sandbox: Sandbox;
  /** The model gateway as commands inside the sandbox reach it. */
  gatewayUrl: string;
}

/** The system directories a test server's PATH holds besides the CLIs. */
export const SYSTEM_PATH = "/usr/bin:/bin";

/**
 * A new directory holding `claude` and `codex` symlinks to the native binaries: the PATH entry a
 * server finds its agent CLIs in. (Claude Code's package bin is a placeholder without its
 * postinstall, so the package's own bin cannot be that entry.) Throws when a CLI is missing.
 */
export async function agentCliDir(parent?: string): Promise<string> {
  const dir = parent ? path.join(parent, "agent-bin") : await mkdtemp(path.join(tmpdir(), "tasks-agent-bin-"));
  await mkdir(dir, { recursive: true });
  await symlink(claudeExecutable(), path.join(dir, "claude"));
  await symlink(codexExecutable(), path.join(dir, "codex"));
  return dir;
}

// One provider per root and gateway, as a server has one: its sockets are made once, on first use.
const providers = new Map<string, Promise<SandboxProvider>>();

async function isolatedProvider(rootDir: string, gatewayUrl: string): Promise<SandboxProvider> {
  const key = `${rootDir}\0${gatewayUrl}`;
  let provider = providers.get(key);
  if (!provider) {
    provider = (async () => {
      const binDir = await agentCliDir(rootDir);
      // Throws (never skips) when bwrap is missing or cannot run here.
      const config = loadConfig({ TASKS_DATA_DIR: rootDir, TASKS_SANDBOX: "local", PATH: `${binDir}:${SYSTEM_PATH}` });
      return createSandboxProvider(config, { gatewayUrl });
    })();
    providers.set(key, provider);
  }
  return provider;
}

export async function createAgentSandbox(options: AgentSandboxOptions): Promise<AgentSandbox> {
  const spec = { taskId: `task-${options.runId}`, runId: options.runId, timeoutMs: 10 * 60_000 };
  if (options.unisolated) {
    const sandbox = await createLocalSandboxProvider({ rootDir: options.rootDir }).create(spec);
    // Unisolated, the sandbox shares the host's network: the gateway is where the host sees it.
    return { sandbox, gatewayUrl: options.gatewayUrl };
  }
  const provider = await isolatedProvider(options.rootDir, options.gatewayUrl);
  if (!provider.gatewayUrl) throw new Error("the isolated local sandbox provider has no gateway URL of its own");
  return { sandbox: await provider.create(spec), gatewayUrl: provider.gatewayUrl };
}
