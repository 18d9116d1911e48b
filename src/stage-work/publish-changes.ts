// Complete: the coder's working tree becomes a commit on `tasks/<slug>-<title>`, pushed by the
// control plane and proposed through the repository's host (a draft PR on GitHub). Before
// anything leaves: the diff policy (no CI workflow changes) and a secret scan of the diff and
// the PR body. Safe to run again: a retried publish finds its commit, its pushed branch and its PR.
import { branchName } from "../git/branch-name.ts";
import { noreplyEmail, renderCommitMessage } from "../github/commit-message.ts";
import { renderPullRequestBody } from "../github/pull-request-body.ts";
import type { PublishOutput } from "../pipeline/activities.ts";
import { checkDiffPolicy, listChangedPaths } from "../publish/diff-policy.ts";
import { formatFindings, scanDiff, scanForSecrets } from "../publish/secret-scan.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { saveTaskBranch } from "../db/run-workspace.ts";
import { listStageOutputs } from "../db/stage-outputs.ts";
import type { StageOutput } from "../generated/prisma/client.ts";
import type { RunContext } from "./run-context.ts";
import type { SandboxStageWorkDeps } from "./sandbox-stage-work.ts";
import { controlCloneDir, type Checkout } from "./sandbox-checkout.ts";
import { type PublishRequest } from "./stage-work.ts";
import { PermanentFailure } from "../lib/errors.ts";

/** The coder's changes as a binary diff against the commit the checkout started from. */
async function diffFromSandbox(sandbox: Sandbox, baseSha: string, signal: AbortSignal): Promise<string> {
  const add = await sandbox.exec(["git", "add", "--all"], { timeoutMs: 120_000, signal });
  if (add.exitCode !== 0) throw new PermanentFailure(`could not read the coder's changes: git add exited with ${add.exitCode}`);
  const diff = await sandbox.exec(["git", "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", baseSha], { timeoutMs: 120_000, signal });
  if (diff.exitCode !== 0) throw new PermanentFailure(`could not read the coder's changes: git diff exited with ${diff.exitCode}`);
  return diff.stdout;
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

  // 1. What changed, and is it allowed to leave?
  const patch = await diffFromSandbox(sandbox, baseSha, signal);
  if (patch.trim() === "") {
    const why = summary.trim().split("\n")[0]?.trim();
    return { prUrl: null, note: `no changes: the coder left the repository unchanged${why ? ` (it said: ${why.slice(0, 300)})` : ""}` };
  }
  const violations = checkDiffPolicy(listChangedPaths(patch));
  if (violations.length > 0) throw new PermanentFailure(violations.map((violation) => violation.message).join("; "));

  const template = await deps.host.readPullRequestTemplate(context);
  const review = request.reviewNotesRef ? outputs.find((o) => o.id === request.reviewNotesRef)?.text ?? null : null;
  const body = renderPullRequestBody({
    summary,
    plan: outputs.filter((o) => o.role === "planner").at(-1)?.text ?? null,
    reviewNotes: review,
    issueNumber: context.issueNumber,
    taskUrl: deps.publicUrl === null ? null : `${deps.publicUrl}/api/tasks/${context.taskId}`,
    slug: context.slug,
    template,
  });
  const findings = [...(await scanDiff(patch)), ...(await scanForSecrets([{ where: "pull request body", text: body }]))];
  if (findings.length > 0) {
    throw new PermanentFailure(`publishing blocked: the changes look like they contain secrets (${formatFindings(findings)})`);
  }

  // 2. Commit in the control plane's clone. Its HEAD is the checkout's base until the commit
  //    exists, so a retried publish that finds another HEAD reuses that commit.
  const dir = controlCloneDir(deps, context.runId);
  const alreadyCommitted = (await deps.git.headSha(dir)) !== baseSha;
  if (!alreadyCommitted) {
    await deps.git.discardChanges(dir);
    await deps.git.applyPatch(dir, patch);
  }
  const coAuthor = context.coAuthor?.id ? { name: context.coAuthor.login, email: noreplyEmail({ id: context.coAuthor.id, login: context.coAuthor.login }, deps.webUrl) } : undefined;
  const commit = await deps.git.commitAll(dir, {
    message: renderCommitMessage({ slug: context.slug, title: context.title, body: summary.split("\n").slice(0, 20).join("\n") }),
    authorName: "Tasks",
    authorEmail: "tasks@users.noreply.github.com",
    ...(coAuthor ? { coAuthor } : {}),
  });

  // 3. The task branch at the host, then the change proposed there.
  const branch = context.branch ?? branchName(context.slug, context.title);
  await deps.host.pushBranch(context, { dir, branch, headSha: commit.sha });
  await saveTaskBranch(deps.db, context.taskId, branch);
  return deps.host.proposeChange(context, { branch, headSha: commit.sha, title: context.title, body, stageResults: stageResults(context, outputs, request) });
}
