// Stopping everything a local command started. Each command is spawned detached, which makes it
// the leader of a new session and process group (setsid), so its id names all it spawns: the
// process group catches ordinary children and grandchildren, and on Linux a scan of /proc also
// catches members of the session that moved to a process group of their own (a shell with job
// control does that for every background job). A process that calls setsid itself leaves the
// session and escapes; the local sandbox is not an isolation boundary (see local-sandbox.ts).
//
// Zombies count as stopped. An orphaned grandchild is re-parented to PID 1, and some hosts'
// PID 1 (containers, microVM agents) never reaps it: it stays a zombie that `kill(pid, 0)`
// still finds, although it is dead and holds nothing.
import { readdir, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

const POLL_MS = 25;
/** SIGKILL cannot be caught: this only bounds the wait for the kernel to finish the job. */
const AFTER_SIGKILL_MS = 2_000;

interface ProcEntry {
  pid: number;
  state: string;
  session: number;
  threads: number;
}

/** Every process on the host, from /proc; undefined where there is no /proc (macOS). */
async function readProcTable(): Promise<ProcEntry[] | undefined> {
  if (process.platform !== "linux") return undefined;
  const names = await readdir("/proc");
  const entries: ProcEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // the process ended between readdir and read: nothing to stop
    }
    // "pid (comm) state ppid pgrp session …"; comm may itself contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    entries.push({ pid: Number(name), state: fields[0] ?? "", session: Number(fields[3]), threads: Number(fields[17]) || 1 });
  }
  return entries;
}

/** Sends a signal, treating "already gone" as done. */
function signal(target: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, name);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return false;
    // A set-uid program in the session (sudo, ping) may refuse our signals; it is not ours to
    // stop, and failing here would leave the rest of the session running.
    if (code === "EPERM") return true;
    throw error;
  }
}

/** Whether any live (non-zombie) process of the session is left. */
export async function isSessionRunning(sessionId: number): Promise<boolean> {
  const table = await readProcTable();
  if (!table) return signal(-sessionId, 0);
  return table.some((entry) => entry.session === sessionId && entry.state !== "Z");
}

/** How many tasks (processes and their threads) of the session are alive; undefined without /proc. */
export async function countSessionTasks(sessionId: number): Promise<number | undefined> {
  const table = await readProcTable();
  return table?.reduce((sum, entry) => (entry.session === sessionId && entry.state !== "Z" ? sum + entry.threads : sum), 0);
}

async function signalSession(sessionId: number, name: NodeJS.Signals): Promise<void> {
  signal(-sessionId, name);
  const table = await readProcTable();
  for (const entry of table ?? []) {
    if (entry.session === sessionId && entry.state !== "Z") signal(entry.pid, name);
  }
}

async function waitUntilStopped(sessionId: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!(await isSessionRunning(sessionId))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Stops every process of the session: SIGTERM, then SIGKILL for whatever is left after
 * `graceMs`. Resolves once nothing of it runs.
 */
export async function terminateSession(sessionId: number, graceMs: number): Promise<void> {
  if (!Number.isSafeInteger(sessionId) || sessionId <= 1) throw new RangeError(`not a session id: ${sessionId}`);
  if (!(await isSessionRunning(sessionId))) return;
  await signalSession(sessionId, "SIGTERM");
  if (await waitUntilStopped(sessionId, graceMs)) return;
  await signalSession(sessionId, "SIGKILL");
  if (!(await waitUntilStopped(sessionId, AFTER_SIGKILL_MS))) {
    throw new Error(`processes of session ${sessionId} are still running after SIGKILL`);
  }
}
