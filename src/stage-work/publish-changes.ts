// Complete: the coder's working tree becomes a commit on `tasks/<slug>-<title>`, pushed by the
// control plane and proposed through the repository's host (a draft PR on GitHub). Before
// anything leaves: the path policy (nothing under `.github/` nor tasks.yml's protected_paths)
// and a secret scan of every changed file's bytes, the names, the commit message and the PR.
// Safe to run again, on any worker: a retried publish finds its commit (or the one an earlier
// attempt pushed), its pushed branch and its PR.
import { noreplyEmail, renderCommitMessage } from "../github/commit-message.ts";
import { renderPullRequestBody } from "../github/pull-request-body.ts";
import type { PublishOutput } from "../pipeline/activities.ts";
import { refuseCommittedPaths } from "../publish/committed-paths.ts";
import { formatFindings } from "../publish/secret-scan.ts";
import { SandboxFileTooLargeError, type Sandbox } from "../sandbox/sandbox.ts";
import { saveTaskBranch } from "../db/run-workspace.ts";
import { listStageOutputs } from "../db/stage-outputs.ts";
import type { StageOutput } from "../generated/prisma/client.ts";
import type { RunContext } from "./run-context.ts";
import type { SandboxStageWorkDeps } from "./sandbox-stage-work.ts";
import { ensureControlClone, taskBranchOf, type Checkout } from "./sandbox-checkout.ts";
import { formatMiB, scanChange } from "./scan-change.ts";
import { type PublishRequest } from "./stage-work.ts";
import { PermanentFailure } from "../lib/errors.ts";
import { taskPageUrl } from "../lib/task-page-url.ts";

/**
 * Every option that shapes `git diff`'s text, pinned on the command line: the sandbox's
 * .git/config is the agent's to write (mnemonicPrefix, noprefix, quotePath, relative, textconv
 * and external drivers would all change what the control plane reads), and `-c` beats it.
 */
const pinnedDiff = [
  "-c", "diff.mnemonicPrefix=false", "-c", "diff.noprefix=false", "-c", "diff.relative=false", "-c", "core.quotePath=true",
  "-c", "diff.renames=false", "-c", "diff.external=", "-c", "diff.submodule=short",
  "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", "--no-relative",
  "--submodule=short", "--src-prefix=a/", "--dst-prefix=b/",
];

/**
 * The largest change Tasks moves out of a sandbox. Above it publishing is refused, saying so:
 * a change this size is not a reviewable pull request, and the control plane holds it in memory.
 */
export const maxPatchBytes = 64 * 1024 * 1024;
/**
 * The coder's changes as a binary diff against the commit the checkout started from, written to
 * a file in the sandbox and read back byte for byte: a command's captured output keeps only its
 * tail, which silently dropped files from large changes.
 */
async function diffFromSandbox(sandbox: Sandbox, baseSha: string, limit: number, signal: AbortSignal): Promise<Buffer> {
  const patchFile = `${sandbox.scratchdir}/change.patch`;
  const add = await sandbox.exec(["git", "add", "--all"], { timeoutMs: 120_000, signal });
  if (add.exitCode !== 0) throw new PermanentFailure(`could not read the coder's changes: git add exited with ${add.exitCode}`);
  // Removed first: a planted symlink there would send git's output elsewhere in the sandbox.
  await sandbox.exec(["rm", "-f", "--", patchFile], { timeoutMs: 30_000, signal });
  const diff = await sandbox.exec(["git", ...pinnedDiff, `--output=${patchFile}`, baseSha, "--"], { timeoutMs: 300_000, signal });
  if (diff.exitCode !== 0) throw new PermanentFailure(`could not read the coder's changes: git diff exited with ${diff.exitCode}`);
  try {
    return Buffer.from(await sandbox.readBytes(patchFile, limit));
  } catch (error) {
    if (!(error instanceof SandboxFileTooLargeError)) throw error;
    throw new PermanentFailure(`publishing refused: the change is larger than ${formatMiB(limit)} as a diff; Tasks publishes changes up to that size. Split the task into smaller ones.`);
  }
}

/** Each stage's latest output in workflow order, and the publishing stage itself (no output). */
function stageResults(context: RunContext, outputs: readonly StageOutput[], request: PublishRequest) {
  const latest = new Map(outputs.map((output) => [output.stage, output.text]));
  return context.stages
    .filter((stage) => latest.has(stage.key) || stage.key === request.stage)
    .map((stage) => ({ stage: stage.key, stageName: stage.name, text: latest.get(stage.key) ?? null }));
}

export async function publishChanges(deps: SandboxStageWorkDeps, context: RunContext, checkout: Checkout, request: PublishRequest, signal: AbortSignal): Promise<PublishOutput> {
  const { sandbox, baseSha } = checkout;
  const outputs = await listStageOutputs(deps.db, context.runId);
  const summary = outputs.filter((o) => o.role === "coder").at(-1)?.text ?? "";

  // 1. What the coder changed, as git in the sandbox writes it down.
  const patch = await diffFromSandbox(sandbox, baseSha, deps.maxPatchBytes ?? maxPatchBytes, signal);
  if (patch.toString("latin1").trim() === "") {
    const why = summary.trim().split("\n")[0]?.trim();
    return { prUrl: null, note: `no changes: the coder left the repository unchanged${why ? ` (it said: ${why.slice(0, 300)})` : ""}` };
  }

  // 2. Applied in the control plane's clone (made again if this worker lacks it), whose git then
  //    says which paths change: those, not the sandbox's text, are what the policy judges. Its
  //    HEAD is the checkout's base until the commit exists, so a retried publish that finds a
  //    commit on the base reuses it; any other HEAD is not this run's and is set back to the base.
  const dir = await ensureControlClone(deps, context, baseSha);
  const head = await deps.git.commitShape(dir, "HEAD");
  const alreadyCommitted = head.sha !== baseSha && head.parents.length === 1 && head.parents[0] === baseSha;
  if (!alreadyCommitted) {
    await deps.git.resetTo(dir, baseSha);
    await deps.git.applyPatch(dir, patch);
  }
  const refuse = async (reason: string): Promise<never> => {
    // Nothing refused stays in the clone for a later step to commit.
    await deps.git.resetTo(dir, baseSha);
    throw new PermanentFailure(reason);
  };
  // Headers of a diff are ASCII (paths are quoted), so reading it byte for byte finds every path.
  const refusal = refuseCommittedPaths(patch.toString("latin1"), await deps.git.stagedNameStatus(dir, baseSha), context.config.protected_paths ?? []);
  if (refusal !== null) await refuse(refusal);

  const template = await deps.host.readPullRequestTemplate(context);
  const plan = outputs.filter((o) => o.role === "planner").at(-1)?.text ?? null;
  const review = request.reviewNotesRef ? outputs.find((o) => o.id === request.reviewNotesRef)?.text ?? null : null;
  const body = renderPullRequestBody({
    summary,
    plan,
    reviewNotes: review,
    issueNumber: context.issueNumber,
    taskUrl: deps.publicUrl === null ? null : taskPageUrl(deps.publicUrl, context.slug),
    slug: context.slug,
    template,
    // Only the person who asked for the work may be notified from agent text.
    mentionable: context.coAuthor ? [context.coAuthor.login] : [],
  });
  const message = renderCommitMessage({ slug: context.slug, title: context.title, body: summary.split("\n").slice(0, 20).join("\n") });
  const findings = await scanChange(deps, dir, baseSha, [
    { where: "commit message", text: message },
    { where: "pull request title", text: context.title },
    { where: "summary", text: summary },
    { where: "plan", text: plan ?? "" },
    { where: "review notes", text: review ?? "" },
    { where: "pull request body", text: body },
  ]).catch((error: unknown) => deps.git.resetTo(dir, baseSha).then(() => Promise.reject(error)));
  if (findings.length > 0) await refuse(`publishing blocked: the changes look like they contain secrets (${formatFindings(findings)})`);

  // 3. The commit, once everything has passed.
  const coAuthor = context.coAuthor?.id ? { name: context.coAuthor.login, email: noreplyEmail({ id: context.coAuthor.id, login: context.coAuthor.login }, deps.webUrl) } : undefined;
  const commit = await deps.git.commitAll(dir, {
    message,
    authorName: "Tasks",
    authorEmail: "tasks@users.noreply.github.com",
    ...(coAuthor ? { coAuthor } : {}),
  });

  // 4. The task branch at the host, then the change proposed there. An earlier attempt (on
  //    another worker, say) may have pushed this very change and died before recording it: its
  //    commit is adopted, since pushing a twin of it would be refused (Tasks never force-pushes).
  const branch = taskBranchOf(context);
  const headSha = await adoptPushedTwin(deps, context, { dir, branch, baseSha, commitSha: commit.sha });
  await deps.host.pushBranch(context, { dir, branch, headSha });
  await saveTaskBranch(deps.db, context.taskId, branch);
  return deps.host.proposeChange(context, { branch, headSha, title: context.title, body, stageResults: stageResults(context, outputs, request) });
}

/** The branch's head at the host when it is the same change on the same base as `commitSha` (then checked out), else `commitSha`. */
async function adoptPushedTwin(deps: SandboxStageWorkDeps, context: RunContext, input: { dir: string; branch: string; baseSha: string; commitSha: string }): Promise<string> {
  const pushed = await deps.host.fetchBranch(context, input.dir, input.branch);
  if (pushed === null || pushed === input.commitSha) return input.commitSha;
  const [theirs, ours] = await Promise.all([deps.git.commitShape(input.dir, pushed), deps.git.commitShape(input.dir, input.commitSha)]);
  const twin = theirs.parents.length === 1 && theirs.parents[0] === input.baseSha && theirs.tree === ours.tree;
  if (!twin) return input.commitSha;
  await deps.git.resetTo(input.dir, pushed);
  return pushed;
}
