// How one command of the local sandbox is wrapped in bubblewrap (`bwrap`): the isolation boundary
// between the agent and the server it runs on.
//
// What the command gets:
//   - new user, PID, mount, IPC, UTS, cgroup and network namespaces; it runs as an unprivileged
//     user with no capabilities and may not make user namespaces of its own (--disable-userns);
//   - a root file system of its own, built from nothing: the system directories read-only, a few
//     files of /etc (certificates, the loader's cache, alternatives) and a passwd/group/hosts of
//     the sandbox's own; a fresh /proc showing only its own processes, a minimal /dev, an empty
//     /tmp of a capped size; the run's directory (checkout, scratch, HOME) is the only writable
//     host path;
//   - no home directory of the host, no TASKS_DATA_DIR beyond its own run directory, no .env, no
//     /run, /var or /srv (so no PostgreSQL socket), no host /proc or /sys;
//   - a network namespace with only a loopback interface: nothing outside is reachable. The model
//     gateway and the egress proxy are Unix sockets bound in read-only at fixed paths, which the
//     loopback bridge (inside/loopback-bridge.mjs) serves on the sandbox's own 127.0.0.1;
//   - --die-with-parent and the PID namespace: when the command's bwrap ends or is killed, the
//     kernel kills every process the command started, so nothing outlives it;
//   - limits on processes, file size and /tmp (resource-limits.ts), so an agent that forks
//     endlessly or fills the disk is stopped, and says so.
// bwrap itself is started with the sandbox's environment only (it is PID 1's parent and its
// /proc/<pid>/environ would be readable from inside), never with the server's.
import path from "node:path";

/** Fixed places inside every sandbox. */
export const INSIDE = {
  /** Symlinks to the agent CLIs found on the server's PATH at start. */
  binDir: "/opt/tasks/bin",
  /** The loopback bridge script and the Unix sockets it serves. */
  bridgeScript: "/opt/tasks/loopback-bridge.mjs",
  gatewaySocket: "/run/tasks/model-gateway.sock",
  egressSocket: "/run/tasks/egress.sock",
  /** Where commands reach the model gateway and the egress proxy: the sandbox's own loopback. */
  gatewayPort: 8642,
  egressPort: 8643,
} as const;

/** The user commands run as inside: not root, so tools that refuse root or assume it behave. */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;

/** One host path visible inside, at the same path unless `inside` says otherwise. */
export interface Bind {
  host: string;
  inside?: string;
  writable?: boolean;
}

export interface BubblewrapPlan {
  /** Host binds in order (the run directory writable, everything else read-only). */
  binds: readonly Bind[];
  /** Symlinks to create inside: [target, link]. */
  symlinks: ReadonlyArray<readonly [string, string]>;
  /** Directory the command starts in (a path inside). */
  cwd: string;
  /** Size of /tmp, a tmpfs, so memory: uncapped it could take half the host's (`--size` needs bwrap 0.5). */
  tmpBytes: number;
}

/** The bwrap arguments before `--` and the command. */
export function bubblewrapArgs(plan: BubblewrapPlan): string[] {
  const args = [
    "--unshare-user",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--disable-userns",
    "--uid", String(SANDBOX_UID),
    "--gid", String(SANDBOX_GID),
    "--hostname", "sandbox",
    "--cap-drop", "ALL",
    "--die-with-parent",
    "--proc", "/proc",
    "--dev", "/dev",
    "--size", String(plan.tmpBytes), "--tmpfs", "/tmp",
  ];
  for (const bind of plan.binds) {
    args.push(bind.writable ? "--bind" : "--ro-bind", bind.host, bind.inside ?? bind.host);
  }
  for (const [target, link] of plan.symlinks) args.push("--symlink", target, link);
  // The new root is a tmpfs bwrap made: read-only too, so /tmp and the run directory are all there is to write.
  args.push("--remount-ro", "/", "--chdir", plan.cwd);
  return args;
}

/** The symlink's place inside for an agent CLI called `name`. */
export const insideBin = (name: string): string => path.posix.join(INSIDE.binDir, name);
