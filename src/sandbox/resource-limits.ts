// What one command of the isolated local sandbox may use of the host, so that an agent that fills
// the disk or forks endlessly stops at a limit the operator can read, and the host stays usable.
//
// How each limit holds (measured on Linux 6.x with bubblewrap 0.8):
//   - processes: RLIMIT_NPROC, set inside the sandbox's user namespace (prlimit runs first in
//     it), counts the tasks (processes and threads) of that namespace only, not the server user's
//     across the host. The kernel never applies it to processes whose user outside is root, so
//     when the server runs as root a pids cgroup holds instead, where one can be made
//     (pids-cgroup.ts). Either way the limit watchdog stops a command that reached it: a fork bomb
//     ends with a clear outcome instead of idling at the ceiling until its timeout;
//   - file size: RLIMIT_FSIZE, also set inside: a write past it fails (SIGXFSZ, "File too large");
//   - /tmp: a tmpfs of its own, capped (it is memory, not disk);
//   - the run directory: on the host's disk, so the watchdog stops a command once the file system
//     holding it has less than a reserve left, before the server and the database run out.
// The limits are per command: each command is a sandbox of its own.
import { statfs } from "node:fs/promises";

export interface SandboxLimits {
  /** Tasks (processes and threads) one command may have at once. */
  maxProcesses: number;
  /** Largest file one command may write. */
  maxFileBytes: number;
  /** Size of the sandbox's /tmp (a tmpfs: memory). */
  tmpBytes: number;
  /** Free space the file system of the run directories keeps: a command that eats into it is stopped. */
  diskReserveBytes: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  // Agent CLIs run on Node (about ten threads each) and start shells, language servers, test
  // runners and compilers with thread pools; 2,048 leaves room for a parallel build and keeps a
  // few busy sandboxes far below the host's pid_max (32,768 by default).
  maxProcesses: 2048,
  // Larger than any file a repository or its build normally writes (git packs included).
  maxFileBytes: 4 * GiB,
  // Tools are pointed at the scratch directory (TMPDIR); /tmp is for those that ignore it.
  tmpBytes: 512 * MiB,
  // Enough for the server, PostgreSQL and git to keep working while the task fails cleanly.
  diskReserveBytes: 1 * GiB,
};

/** How often the watchdog looks at a running command's processes and the disk. */
export const LIMIT_WATCH_MS = 250;

/** The shell's exit code for a command killed by SIGXFSZ (128 + 25). */
const FILE_TOO_LARGE_EXIT_CODE = 153;

export const formatBytes = (bytes: number): string =>
  bytes >= GiB && bytes % GiB === 0 ? `${bytes / GiB} GiB` : bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;

/** Checks the limits and settings make sense; a clear error naming the bad one otherwise. */
export function checkLimits(limits: SandboxLimits): SandboxLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0 || (name !== "diskReserveBytes" && value === 0)) {
      throw new RangeError(`sandbox limit ${name} must be a positive whole number, got ${String(value)}`);
    }
  }
  return limits;
}

/** prlimit's arguments that set the per-command rlimits, run first inside the sandbox. */
export function rlimitArgs(prlimit: string, limits: SandboxLimits): string[] {
  const { maxProcesses: processes, maxFileBytes: bytes } = limits;
  return [prlimit, `--nproc=${processes}:${processes}`, `--fsize=${bytes}:${bytes}`, "--"];
}

/** The note for a command that reached the process limit. */
export const processLimitNote = (limits: SandboxLimits): string =>
  `the sandbox stopped the command: it reached the sandbox's limit of ${limits.maxProcesses} processes and threads (a runaway fork?)`;

/** The note for a command whose forks were refused at the process limit, but which ended by itself. */
export const processesRefusedNote = (limits: SandboxLimits): string =>
  `a process could not be started: the sandbox allows ${limits.maxProcesses} processes and threads per command`;

/** The note for a command stopped because the disk was nearly full, or undefined while there is room. */
export async function diskReserveNote(dir: string, limits: SandboxLimits): Promise<string | undefined> {
  const stats = await statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free >= limits.diskReserveBytes) return undefined;
  return `the sandbox stopped the command: the disk holding the sandbox ran out of space (less than ${formatBytes(limits.diskReserveBytes)} left)`;
}

/** Why a command that ended by itself failed, when one of the sandbox's limits is the reason. */
export function explainLimitExit(exitCode: number, stderr: string, limits: SandboxLimits): string | undefined {
  // The shells' words for a refused fork (dash, bash, busybox), whatever the exit code.
  if (/Cannot fork|fork: (retry: )?Resource temporarily unavailable|can't fork/i.test(stderr)) return processesRefusedNote(limits);
  if (exitCode === 0) return undefined;
  if (exitCode === FILE_TOO_LARGE_EXIT_CODE || /File too large/.test(stderr)) {
    return `the sandbox's file size limit (${formatBytes(limits.maxFileBytes)}) stopped a write: a file grew too large`;
  }
  if (/No space left on device/.test(stderr)) {
    return `the sandbox ran out of space: its /tmp holds at most ${formatBytes(limits.tmpBytes)}, or the disk holding the sandbox is full`;
  }
  return undefined;
}
