// The host side of the bubblewrap sandbox: checks at start that bwrap works here, prepares what
// every sandbox shares (a passwd, group and hosts of its own, the binds of the system, Node and the
// agent CLIs), and turns one command into the bwrap command line that runs it inside.
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bubblewrapArgs, INSIDE, insideBin, SANDBOX_GID, SANDBOX_UID, type Bind } from "./bubblewrap.ts";
import type { ExecOptions } from "./sandbox.ts";
import { bindsForNode, bindsForProgram, SYSTEM_DIRS } from "./host-programs.ts";
import { DEFAULT_SANDBOX_LIMITS, rlimitArgs, type SandboxLimits } from "./resource-limits.ts";

/** Files of the host's /etc that tools need and that hold nothing about the server. */
const HOST_ETC = ["/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/os-release"];

/** util-linux's prlimit: it sets the command's rlimits inside its user namespace, where they count. */
const PRLIMIT_PATHS = ["/usr/bin/prlimit", "/bin/prlimit"];

const BRIDGE_SCRIPT = fileURLToPath(new URL("./inside/loopback-bridge.mjs", import.meta.url));

type SandboxNetwork = NonNullable<ExecOptions["network"]>;

export interface IsolationOptions {
  /** bwrap's real path. */
  bwrap: string;
  /** Node's real path: it runs the loopback bridge, and npm CLIs' `#!/usr/bin/env node`. */
  nodePath: string;
  /** Agent CLIs by command name (claude, codex), as real paths on the host. */
  programs: ReadonlyMap<string, string>;
}

export interface Isolation {
  /** PATH inside the sandbox. */
  readonly path: string;
  /** The full command line (bwrap first) that runs `argv` in the run directory `runDir`. */
  wrap(argv: readonly string[], spec: { runDir: string; cwd: string; network: SandboxNetwork; sockets: NetworkSockets; readOnly?: string | undefined; limits: SandboxLimits }): string[];
}

/** Host paths of the Unix sockets the loopback bridge relays to. */
export interface NetworkSockets {
  gateway: string | undefined;
  egress: string | undefined;
}

/** The system directories as they are on this host: a directory is bound, a symlink (merged /usr) recreated. */
function systemLayout(): { binds: Bind[]; symlinks: Array<[string, string]> } {
  const binds: Bind[] = [];
  const symlinks: Array<[string, string]> = [];
  for (const dir of SYSTEM_DIRS) {
    let stats;
    try {
      stats = lstatSync(dir);
    } catch {
      continue;
    }
    if (stats.isSymbolicLink()) symlinks.push([readlinkSync(dir), dir]);
    else if (stats.isDirectory()) binds.push({ host: dir });
  }
  for (const file of HOST_ETC) if (existsSync(file)) binds.push({ host: file });
  return { binds, symlinks };
}

/** passwd, group and hosts of the sandbox's own: tools look their user up, and localhost must resolve. */
async function writeSandboxEtc(dir: string): Promise<Bind[]> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const files: Record<string, string> = {
    passwd: `agent:x:${SANDBOX_UID}:${SANDBOX_GID}:Tasks agent:/nonexistent:/bin/sh\n`,
    group: `agent:x:${SANDBOX_GID}:\n`,
    hosts: "127.0.0.1 localhost sandbox\n::1 localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
  };
  const binds: Bind[] = [];
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content, { mode: 0o644 });
    binds.push({ host: path.join(dir, name), inside: `/etc/${name}` });
  }
  return binds;
}

export async function prepareIsolation(options: IsolationOptions, stateDir: string): Promise<Isolation> {
  const prlimit = PRLIMIT_PATHS.find((candidate) => existsSync(candidate));
  if (!prlimit) throw new Error(`the local sandbox needs prlimit (util-linux) to limit each command's processes and file size; none of ${PRLIMIT_PATHS.join(", ")} exists`);
  const system = systemLayout();
  const programBinds = [...bindsForNode(options.nodePath), ...[...options.programs.values()].flatMap(bindsForProgram)];
  const shared: Bind[] = [
    ...system.binds,
    ...(await writeSandboxEtc(path.join(stateDir, "etc"))),
    // Two CLIs of one node_modules need it bound once.
    ...[...new Map(programBinds.map((bind) => [bind.host, bind])).values()],
    { host: BRIDGE_SCRIPT, inside: INSIDE.bridgeScript },
  ];
  const symlinks: Array<readonly [string, string]> = [
    ...system.symlinks,
    ...[...options.programs].map(([name, real]) => [real, insideBin(name)] as const),
  ];
  const nodeDir = path.dirname(options.nodePath);
  const insidePath = [...new Set([INSIDE.binDir, nodeDir, "/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"])].join(":");

  return {
    path: insidePath,
    wrap(argv, spec) {
      const binds: Bind[] = [...shared, { host: spec.runDir, writable: true }];
      // A read-only role's checkout: the same directory again, read-only, over the writable one.
      if (spec.readOnly) binds.push({ host: spec.readOnly });
      const bridge: string[] = [];
      if (spec.network === "model-gateway" && spec.sockets.gateway) {
        binds.push({ host: spec.sockets.gateway, inside: INSIDE.gatewaySocket });
        bridge.push(String(INSIDE.gatewayPort), INSIDE.gatewaySocket);
      }
      if (spec.network === "egress" && spec.sockets.egress) {
        binds.push({ host: spec.sockets.egress, inside: INSIDE.egressSocket });
        bridge.push(String(INSIDE.egressPort), INSIDE.egressSocket);
      }
      const command = bridge.length > 0 ? [options.nodePath, INSIDE.bridgeScript, ...bridge, "--", ...argv] : [...argv];
      // prlimit runs inside, first: RLIMIT_NPROC set there counts this sandbox's user namespace only.
      const limited = [...rlimitArgs(prlimit, spec.limits), ...command];
      return [options.bwrap, ...bubblewrapArgs({ binds, symlinks, cwd: spec.cwd, tmpBytes: spec.limits.tmpBytes }), "--", ...limited];
    },
  };
}

/**
 * Runs a trivial command with every namespace the sandbox uses. Null when bwrap works here, else
 * what went wrong (no user namespaces, a seccomp profile of a container refusing them, …).
 */
export function probeBubblewrap(bwrap: string): string | null {
  const { binds, symlinks } = systemLayout();
  const args = bubblewrapArgs({ binds, symlinks, cwd: "/", tmpBytes: DEFAULT_SANDBOX_LIMITS.tmpBytes });
  const result = spawnSync(bwrap, [...args, "--", "true"], { env: { PATH: "/usr/bin:/bin" }, encoding: "utf8", timeout: 10_000 });
  if (result.error) return `${bwrap} could not be run: ${result.error.message}`;
  if (result.status === 0) return null;
  return `${bwrap} failed (exit ${result.status ?? result.signal}): ${(result.stderr || "").trim().split("\n").slice(-2).join(" ") || "no message"}`;
}
