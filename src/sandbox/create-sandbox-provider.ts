// Picks the sandbox adapter the configuration names. The E2B adapter is imported on first use
// (a dynamic import), so a server running local sandboxes never loads the E2B SDK. The local
// adapter is checked here, at start: bubblewrap must work on this machine, and the agent CLI the
// server is configured for must be on its PATH, or the server does not start and says why.
import path from "node:path";
import { ConfigError, type Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import { findOnPath } from "./host-programs.ts";
import { probeBubblewrap } from "./isolation.ts";
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

/** The warning every task's tracking comment carries when agents run without isolation. */
export function sandboxWarning(config: Config): string | undefined {
  if (config.sandbox.kind !== "unsafe-host") return undefined;
  return "This Tasks server runs agents **without isolation** (`TASKS_SANDBOX=unsafe-host`): the agent can read the server's files and secrets. Do not use it on issues from people you do not trust.";
}

/** The agent CLIs a local sandbox can run, by the runtime that uses them. */
export const AGENT_CLIS = {
  claude: { command: "claude", install: "npm install -g @anthropic-ai/claude-code" },
  codex: { command: "codex", install: "npm install -g @openai/codex" },
} as const;

/** The agent CLIs found on the server's PATH, by command name; the configured runtime's must be there. */
export function findAgentClis(config: Config): Map<string, { dir: string; real: string }> {
  const found = new Map<string, { dir: string; real: string }>();
  for (const [runtime, cli] of Object.entries(AGENT_CLIS)) {
    const program = findOnPath(cli.command, config.system.path);
    if (program) found.set(cli.command, program);
    else if (config.agent.kind === runtime) {
      throw new ConfigError("TASKS_AGENT", `TASKS_AGENT=${runtime} runs \`${cli.command}\`, which is not on the server's PATH; install it (${cli.install}) or put its directory on PATH`);
    }
  }
  return found;
}

export interface SandboxProviderDeps {
  /** The model gateway on the host, for local sandboxes to reach through their socket. */
  gatewayUrl?: string;
  log?: Logger;
}

export function createSandboxProvider(config: Config, deps: SandboxProviderDeps = {}): SandboxProvider {
  const rootDir = path.join(config.dataDir, "workspaces");
  if (config.sandbox.kind === "unsafe-host") {
    const programs = findAgentClis(config);
    deps.log?.warn("TASKS_SANDBOX=unsafe-host: agents run as this server's user, WITHOUT isolation; they can read its files and secrets. Only for trying Tasks on your own repositories.");
    // The CLIs' own directories first: the server's PATH may hold more than the sandbox should see.
    const dirs = [...programs.values()].map((program) => program.dir);
    return createLocalSandboxProvider({ rootDir, path: [...new Set([...dirs, path.dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"])].join(path.delimiter) });
  }
  if (config.sandbox.kind === "local") {
    const bwrap = findOnPath("bwrap", config.system.path)?.real;
    const problem = bwrap ? probeBubblewrap(bwrap) : "bwrap (bubblewrap) is not on PATH";
    if (!bwrap || problem) {
      throw new ConfigError(
        "TASKS_SANDBOX",
        `the local sandbox isolates agents with bubblewrap, which cannot run here: ${problem}. ` +
          "Install it (Debian/Ubuntu: apt-get install bubblewrap; it needs unprivileged user namespaces), " +
          "or run agents in E2B (E2B_API_KEY), or set TASKS_SANDBOX=unsafe-host to run them without isolation as this server's user",
      );
    }
    return createLocalSandboxProvider({
      rootDir,
      isolation: {
        bwrap,
        stateDir: path.join(config.dataDir, "sandbox"),
        nodePath: process.execPath,
        programs: new Map([...findAgentClis(config)].map(([name, program]) => [name, program.real])),
        egressAllow: config.sandbox.egressAllow,
        ...(deps.gatewayUrl ? { gatewayUrl: deps.gatewayUrl } : {}),
        ...(deps.log ? { log: deps.log } : {}),
      },
    });
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
