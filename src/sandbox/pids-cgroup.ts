// A pids cgroup per command, where this process may make one (cgroup v1's pids hierarchy, which
// root can write). It holds the process limit when RLIMIT_NPROC cannot: the kernel never applies
// RLIMIT_NPROC to processes whose user outside the namespace is root, as the sandbox's are when
// the server runs as root. The cgroup counts every task of the command whatever it does (setsid,
// a new session, threads), and its event counter says whether a fork was refused.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";

const PIDS_HIERARCHY = "/sys/fs/cgroup/pids";

export interface PidsCgroup {
  /** The command line that joins the cgroup, then runs `argv` (everything it starts stays in it). */
  join(argv: readonly string[]): string[];
  /** Whether a fork was refused because the cgroup was full. */
  reachedLimit(): Promise<boolean>;
  /** Removes the cgroup once nothing runs in it. */
  remove(): Promise<void>;
}

export interface PidsCgroups {
  create(maxTasks: number): Promise<PidsCgroup>;
}

/** The cgroups of this process's sandboxes, or undefined where none can be made here. */
export async function openPidsCgroups(): Promise<PidsCgroups | undefined> {
  // One parent for every server on the host; each command's cgroup below it is removed when it ends.
  const parent = path.join(PIDS_HIERARCHY, "tasks-sandboxes");
  try {
    await mkdir(parent, { recursive: true });
    await writeFile(path.join(parent, "pids.max"), "max");
  } catch {
    return undefined; // not root, no v1 pids hierarchy, or a read-only /sys: RLIMIT_NPROC holds alone
  }
  return {
    async create(maxTasks) {
      const dir = path.join(parent, randomBytes(6).toString("hex"));
      await mkdir(dir, { recursive: true }); // the parent too, should someone have removed it
      await writeFile(path.join(dir, "pids.max"), String(maxTasks));
      return {
        // The shell writes its own pid, then becomes the command: nothing runs outside the cgroup.
        join: (argv) => ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', path.join(dir, "cgroup.procs"), ...argv],
        async reachedLimit() {
          const events = await readFile(path.join(dir, "pids.events"), "utf8").catch(() => "");
          return Number(/^max (\d+)/m.exec(events)?.[1] ?? 0) > 0;
        },
        async remove() {
          // Busy only while a zombie waits to be reaped; an empty cgroup left behind holds nothing.
          await rmdir(dir).catch(() => undefined);
        },
      };
    },
  };
}
