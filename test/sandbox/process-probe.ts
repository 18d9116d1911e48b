// Test helpers for "nothing survives": whether a pid still runs, and the pids a command prints.
import { readFileSync } from "node:fs";

/**
 * Whether the process runs. A zombie does not: on hosts whose PID 1 never reaps orphans (this
 * CI's microVM agent is one), a killed grandchild stays a zombie that `kill(pid, 0)` still
 * finds, although it is dead.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== "linux") return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Collects `pid <n>` lines a test command prints, and resolves once `count` have arrived. Each
 * pid also goes into `leftovers` at once, for the test's cleanup to kill should the test fail.
 */
export function pidCollector(count: number, leftovers: number[]): { onOutput: (chunk: string) => void; pids: number[]; ready: Promise<number[]> } {
  const pids: number[] = [];
  let text = "";
  let resolve!: (pids: number[]) => void;
  const ready = new Promise<number[]>((r) => (resolve = r));
  return {
    pids,
    ready,
    onOutput(chunk) {
      text += chunk;
      pids.splice(0, pids.length, ...[...text.matchAll(/pid (\d+)/g)].map((match) => Number(match[1])));
      leftovers.push(...pids.filter((pid) => !leftovers.includes(pid)));
      if (pids.length >= count) resolve([...pids]);
    },
  };
}

/**
 * Kills leftovers of a failed test so they do not outlive the suite. Only the test's own kind of
 * process (sleep, sh, bash) is touched: a pid may have been reused since.
 */
export function killQuietly(pids: number[]): void {
  for (const pid of pids) {
    if (!isRunning(pid)) continue;
    let program = "";
    try {
      program = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    } catch {
      continue; // gone, or no /proc: leave it
    }
    if (!["sleep", "sh", "bash", "/bin/sh", "/bin/bash"].includes(program)) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // ended meanwhile
    }
  }
}
