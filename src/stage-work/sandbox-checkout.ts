// Gets the repository into a run's sandbox without a write credential ever entering it: the
// control plane clones through the repository's host (on GitHub with a short-lived read-only
// token, revoked straight after), makes a git bundle, and the sandbox clones from that file.
// Nothing in the sandbox can reach the host as the app.
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { findRunCheckout, saveRunCheckout, saveTaskBranch } from "../db/run-workspace.ts";
import { branchName } from "../git/branch-name.ts";
import type { Git } from "../git/git.ts";
import { SandboxGoneError, type Sandbox, type SandboxProvider } from "../sandbox/sandbox.ts";
import type { RepositoryHost } from "./repository-host.ts";
import type { RunContext } from "./run-context.ts";
import { PermanentFailure } from "../lib/errors.ts";

export interface CheckoutDeps {
  db: PrismaClient;
  host: RepositoryHost;
  sandboxes: SandboxProvider;
  /** Where the control plane keeps its own clones, one per run. */
  workspaceRoot: string;
  sandboxTimeoutMs: number;
  git: Git;
}

export const controlCloneDir = (deps: Pick<CheckoutDeps, "workspaceRoot">, runId: string) => path.join(deps.workspaceRoot, runId);

/** The run's sandbox and the commit its checkout started from (the base of the coder's diff). */
export interface Checkout {
  sandbox: Sandbox;
  baseSha: string;
}

/** The run's sandbox: reattached if it exists, else created and checked out. */
export async function ensureSandbox(deps: CheckoutDeps, context: RunContext, canStartOver: boolean): Promise<Checkout> {
  const spec = { taskId: context.taskId, runId: context.runId, timeoutMs: deps.sandboxTimeoutMs };
  const run = await findRunCheckout(deps.db, context.runId);
  if (run?.sandboxId && run.baseSha) {
    try {
      const sandbox = await deps.sandboxes.connect(run.sandboxId, spec);
      await sandbox.extend(deps.sandboxTimeoutMs);
      return { sandbox, baseSha: run.baseSha };
    } catch (error) {
      if (!(error instanceof SandboxGoneError)) throw error;
      if (!canStartOver) throw new PermanentFailure("the sandbox holding this run's changes is gone (it timed out or its host restarted); retry the task");
    }
  }
  const sandbox = await deps.sandboxes.create(spec);
  try {
    const baseSha = await checkout(deps, context, sandbox);
    await saveRunCheckout(deps.db, context.runId, { sandboxId: sandbox.id, baseSha });
    return { sandbox, baseSha };
  } catch (error) {
    await sandbox.kill();
    throw error;
  }
}

/** The branch a run's checkout clones: a follow-up continues the task's branch, everything else starts from the base branch. */
export const checkoutBranch = (context: RunContext): string => (context.followup && context.branch ? context.branch : context.baseBranch);

/**
 * The run's control clone, made again at `baseSha` when this worker does not have it: with
 * Temporal any worker may publish, and only the one that ran the checkout has its clone on
 * disk. What it is made from is durable: the host's branch and the base sha the database keeps.
 */
export async function ensureControlClone(deps: CheckoutDeps, context: RunContext, baseSha: string): Promise<string> {
  const dir = controlCloneDir(deps, context.runId);
  if (await deps.git.isClone(dir)) return dir;
  // Made aside and renamed into place, so a worker that dies half-way never leaves a clone whose
  // HEAD is not the base (publish would take that HEAD for its own commit).
  const partial = `${dir}.recovering`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    await deps.host.cloneBranch(context, partial, checkoutBranch(context));
    // The branch may have moved on since the checkout, or been rewritten without the base.
    if (!(await deps.git.hasCommit(partial, baseSha)) && !(await deps.host.fetchCommit(context, partial, baseSha))) {
      throw new PermanentFailure(`the commit this run started from (${baseSha}) is no longer in ${context.repository}; retry the task`);
    }
    await deps.git.resetTo(partial, baseSha);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return dir;
}

/** The branch the task's work lives on: the one it already has, else a new `tasks/<slug>-<title>`. */
export const taskBranchOf = (context: RunContext): string => context.branch ?? branchName(context.slug, context.title);

async function checkout(deps: CheckoutDeps, context: RunContext, sandbox: Sandbox): Promise<string> {
  const branch = checkoutBranch(context);
  const dir = controlCloneDir(deps, context.runId);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await deps.host.cloneBranch(context, dir, branch);
  if (deps.host.showsStageProgress) await startTaskBranch(deps, context, dir);
  const bundleFile = `${dir}.bundle`;
  await deps.git.createBundle(dir, branch, bundleFile);
  const bundleInSandbox = `${sandbox.scratchdir}/repo.bundle`;
  await sandbox.writeFile(bundleInSandbox, new Uint8Array(await readFile(bundleFile)));
  await rm(bundleFile, { force: true });

  const git = async (argv: string[], cwd = sandbox.workdir) => {
    const result = await sandbox.exec(["git", ...argv], { cwd, timeoutMs: 120_000 });
    if (result.exitCode !== 0) throw new PermanentFailure(`checkout failed: git ${argv[0]} exited with ${result.exitCode}: ${result.stderr.trim().slice(-500)}`);
    return result.stdout.trim();
  };
  await git(["clone", "--quiet", "--branch", branch, bundleInSandbox, sandbox.workdir], sandbox.scratchdir);
  // The clone's only remote is the bundle file: there is nothing to push to, and no credential.
  await git(["config", "user.name", "Tasks"]);
  await git(["config", "user.email", "tasks@users.noreply.github.com"]);
  const baseSha = await git(["rev-parse", "HEAD"]);
  await runSetup(context, sandbox);
  return baseSha;
}

/**
 * Gives the run a commit of its own before any stage reports: an empty commit on the task
 * branch (on top of it when it exists, as after a retry or for a follow-up, else on the base),
 * pushed at once. Every check run of the run lives on it, never on a commit of the base branch:
 * a task that fails in Plan does not mark `main` red. The checkout and the coder's diff start
 * from it. A run that ends with nothing else pushed has the branch deleted again (cleanup).
 */
async function startTaskBranch(deps: CheckoutDeps, context: RunContext, dir: string): Promise<void> {
  const taskBranch = taskBranchOf(context);
  const pushed = await deps.host.fetchBranch(context, dir, taskBranch);
  if (pushed !== null) await deps.git.resetTo(dir, pushed);
  const started = await deps.git.commitEmpty(dir, {
    message: `${context.slug}: ${context.followup ? "follow-up" : "run"} started\n\nTasks is working on this branch; its check runs show each stage.`,
    authorName: "Tasks",
    authorEmail: "tasks@users.noreply.github.com",
  });
  await deps.host.pushBranch(context, { dir, branch: taskBranch, headSha: started });
  await saveTaskBranch(deps.db, context.taskId, taskBranch);
}

async function runSetup(context: RunContext, sandbox: Sandbox): Promise<void> {
  const setup = context.config.setup;
  if (!setup || setup.commands.length === 0) return;
  const deadline = Date.now() + setup.timeout_seconds * 1000;
  for (const command of setup.commands) {
    // The repository's own setup, written by people with write access, run inside the
    // untrusted sandbox — like a CI step. Issue and comment text never reaches this shell.
    // Setup commands may fetch dependencies: through the egress proxy, from TASKS_EGRESS_ALLOW only.
    const result = await sandbox.exec(["sh", "-c", command], { timeoutMs: Math.max(1000, deadline - Date.now()), network: "egress" });
    if (result.timedOut) throw new PermanentFailure(`setup command "${command}" did not finish within setup.timeout_seconds (${setup.timeout_seconds}s)`);
    if (result.exitCode !== 0) throw new PermanentFailure(`setup command "${command}" exited with ${result.exitCode}: ${result.stderr.trim().slice(-500)}`);
  }
}
