// Complete: the coder's working tree becomes a commit on `tasks/<slug>-<title>`, pushed by the
// control plane and opened as a draft PR. Before anything leaves: the diff policy (no CI
// workflow changes) and a secret scan of the diff and the PR body. Safe to run again: a
// retried publish finds its commit, its pushed branch and its PR.
import { branchName } from "../github/branch-name.ts";
import { upsertStageCheckRun } from "../github/check-runs.ts";
import { noreplyEmail, renderCommitMessage } from "../github/commit-message.ts";
import { BranchConflictError } from "../github/git.ts";
import { mintRepositoryToken, publishPermissions, revokeToken } from "../github/installation-token.ts";
import { openOrReusePullRequest, readPullRequestTemplate, renderPullRequestBody } from "../github/pull-requests.ts";
import type { PublishOutput } from "../pipeline/activities.ts";
import { checkDiffPolicy, listChangedPaths } from "../publish/diff-policy.ts";
import { formatFindings, scanDiff, scanForSecrets } from "../publish/secret-scan.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { GitHubStageWorkDeps } from "./github-stage-work.ts";
import { withoutSecrets } from "./without-secrets.ts";
import type { RunContext } from "./run-context.ts";
import { controlCloneDir } from "./sandbox-checkout.ts";
import { PermanentFailure, type PublishRequest } from "./stage-work.ts";

/** The coder's changes as a binary diff against the commit the checkout started from. */
async function diffFromSandbox(sandbox: Sandbox, baseSha: string, signal: AbortSignal): Promise<string> {
  const add = await sandbox.exec(["git", "add", "--all"], { timeoutMs: 120_000, signal });
  if (add.exitCode !== 0) throw new PermanentFailure(`could not read the coder's changes: git add exited with ${add.exitCode}`);
  const diff = await sandbox.exec(["git", "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", baseSha], { timeoutMs: 120_000, signal });
  if (diff.exitCode !== 0) throw new PermanentFailure(`could not read the coder's changes: git diff exited with ${diff.exitCode}`);
  return diff.stdout;
}

export async function publishChanges(deps: GitHubStageWorkDeps, context: RunContext, sandbox: Sandbox, request: PublishRequest, signal: AbortSignal): Promise<PublishOutput> {
  const run = await deps.db.taskRun.findUniqueOrThrow({ where: { id: context.runId }, select: { baseSha: true } });
  if (!run.baseSha) throw new PermanentFailure("the run has no checkout to publish from");
  const outputs = await deps.db.stageOutput.findMany({ where: { runId: context.runId }, orderBy: { createdAt: "asc" } });
  const summary = outputs.filter((o) => o.role === "coder").at(-1)?.text ?? "";

  // 1. What changed, and is it allowed to leave?
  const patch = await diffFromSandbox(sandbox, run.baseSha, signal);
  if (patch.trim() === "") {
    const why = summary.trim().split("\n")[0]?.trim();
    return { prUrl: null, note: `no changes: the coder left the repository unchanged${why ? ` (it said: ${why.slice(0, 300)})` : ""}` };
  }
  const violations = checkDiffPolicy(listChangedPaths(patch));
  if (violations.length > 0) throw new PermanentFailure(violations.map((violation) => violation.message).join("; "));

  const octokit = await deps.github.auth(context.installationId);
  const template = await readPullRequestTemplate(octokit, { owner: context.owner, repo: context.repo, ref: context.baseBranch });
  const review = request.reviewNotesRef ? outputs.find((o) => o.id === request.reviewNotesRef)?.text ?? null : null;
  const body = renderPullRequestBody({
    summary,
    plan: outputs.filter((o) => o.role === "planner").at(-1)?.text ?? null,
    reviewNotes: review,
    issueNumber: context.issueNumber,
    taskUrl: `${deps.publicUrl}/api/tasks/${context.taskId}`,
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
  const alreadyCommitted = (await deps.git.headSha(dir)) !== run.baseSha;
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

  // 3. Push with a token minted for this one repository, revoked straight after.
  const branch = context.branch ?? branchName(context.slug, context.title);
  const remoteUrl = `${deps.webUrl}/${context.repository}.git`;
  const token = await mintRepositoryToken(await deps.github.auth(), { installationId: context.installationId, repository: context.repository, permissions: publishPermissions });
  try {
    const remoteSha = await deps.git.remoteBranchSha({ remoteUrl, branch, token: token.token });
    if (remoteSha !== commit.sha) {
      try {
        // A follow-up's clone is the branch itself, so its commit fast-forwards; a first publish creates the branch.
        await deps.git.pushBranch({ repoDir: dir, remoteUrl, branch, token: token.token, expectedRemoteSha: null });
      } catch (error) {
        if (error instanceof BranchConflictError) throw new PermanentFailure(`the branch ${branch} has commits Tasks did not make; not overwriting them`);
        throw error;
      }
    }
  } finally {
    await revokeToken(token.token, deps.apiUrl).catch(() => undefined);
  }
  await deps.db.task.update({ where: { id: context.taskId }, data: { branch } });

  // 4. The pull request, opened or reused, and each stage's check run on the new head.
  const pr = await openOrReusePullRequest(octokit, {
    owner: context.owner,
    repo: context.repo,
    head: branch,
    base: context.baseBranch,
    title: context.title,
    body,
    draft: context.config.pull_request?.draft ?? true,
    labels: context.config.pull_request?.labels ?? [],
  });
  await deps.db.task.update({ where: { id: context.taskId }, data: { prUrl: pr.url } });
  await postFinalChecks(deps, context, commit.sha, outputs);
  return { prUrl: pr.url, note: null };
}

async function postFinalChecks(deps: GitHubStageWorkDeps, context: RunContext, headSha: string, outputs: { stage: string; text: string; createdAt: Date }[]) {
  const octokit = await deps.github.auth(context.installationId);
  const task = await deps.db.task.findUniqueOrThrow({ where: { id: context.taskId }, select: { workflowId: true } });
  const stages = await deps.db.stage.findMany({ where: { workflowId: task.workflowId }, orderBy: { position: "asc" } });
  for (const stage of stages) {
    const output = outputs.filter((o) => o.stage === stage.key).at(-1);
    if (!output && !stage.opensPullRequest) continue;
    await upsertStageCheckRun(octokit, {
      owner: context.owner,
      repo: context.repo,
      headSha,
      stageName: stage.name,
      externalId: `${context.runId}:${stage.key}`,
      status: "completed",
      conclusion: "success",
      title: `${context.slug}: ${stage.name} done`,
      summary: await withoutSecrets(`check run ${stage.name}`, output?.text ?? "Pull request opened."),
      detailsUrl: `${deps.publicUrl}/api/tasks/${context.taskId}`,
    });
  }
}
