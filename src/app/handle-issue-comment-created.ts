// `/task …` comments. On an issue: create, status, cancel, retry, approve, help. On a task's
// pull request: `/task <instructions>` asks for a follow-up run on the same branch and PR, and
// the other commands act on that task.
import type { Context } from "probot";
import { writeHint } from "../github/write-hint.ts";
import { AppError } from "../lib/errors.ts";
import type { TaskView } from "../tasks/task-view.ts";
import { replyOnIssue, taskUrl, type AppDeps } from "./app-deps.ts";
import { authorizeSender } from "./authorize-sender.ts";
import { mayAnswerRefusal, takeCommandBudget } from "./trigger-limits.ts";
import { parseTaskCommand, type TaskCommand } from "./parse-task-command.ts";
import { issueTriggerFrom, startIssueTask, updateTracking } from "./start-issue-task.ts";

type CommentContext = Context<"issue_comment.created">;

export async function handleIssueCommentCreated(deps: AppDeps, context: CommentContext): Promise<void> {
  const { payload } = context;
  if (context.isBot || payload.comment.user?.type === "Bot" || !payload.installation) return;
  const command = parseTaskCommand(payload.comment.body ?? "", deps.command);
  if (!command) return;
  const react = async () => {
    await context.octokit.rest.reactions.createForIssueComment({ ...context.repo(), comment_id: payload.comment.id, content: "eyes", ...writeHint("acknowledge") });
  };
  const pullRequest = payload.issue.pull_request;
  if (command.kind === "create" && !pullRequest) {
    await startIssueTask(deps, {
      ...issueTriggerFrom(context, payload.installation.id),
      source: "comment",
      instructions: command.instructions,
      react,
    });
    return;
  }
  // A pull request that no task opened is not ours to answer on.
  const prTask = pullRequest ? await deps.tasks.findTaskByPullRequest(payload.repository.full_name, pullRequest.html_url ?? payload.issue.html_url) : undefined;
  if (pullRequest && !prTask) return;
  await actOnTask(deps, context, command, react, prTask);
}

async function actOnTask(deps: AppDeps, context: CommentContext, command: TaskCommand, react: () => Promise<void>, prTask: TaskView | undefined): Promise<void> {
  const { payload } = context;
  const here = context.issue();
  const integration = await deps.tasks.findInstalledRepository(payload.installation!.id, payload.repository.full_name);
  if (!integration) return;
  const { owner, repo } = context.repo();
  const verdict = await authorizeSender({ octokit: context.octokit, owner, repo, sender: payload.sender });
  if (!verdict.allowed) {
    const refusal = { deliveryId: context.id, repository: payload.repository.full_name, issueNumber: here.issue_number, senderId: payload.sender.id };
    if (verdict.reply && (await mayAnswerRefusal(deps, refusal))) await replyOnIssue(context.octokit, here, `Tasks did not act: ${verdict.reason}.`);
    return;
  }
  const budget = await takeCommandBudget(deps, { repository: payload.repository.full_name, sender: payload.sender });
  if (!budget.allowed) {
    if (budget.reply) await replyOnIssue(context.octokit, here, budget.reply);
    return;
  }
  await react().catch((error: unknown) => deps.log.warn({ err: error }, "could not add the 👀 reaction"));
  if (command.kind === "help") {
    await replyOnIssue(context.octokit, here, helpText(deps));
    return;
  }
  const task = prTask ?? (await deps.tasks.findLatestIssueTask(payload.repository.full_name, here.issue_number));
  if (!task) {
    await replyOnIssue(context.octokit, here, `No task has been started for this issue. Comment \`${deps.command}\` to start one.`);
    return;
  }
  const link = `[${task.slug}](${taskUrl(deps, task.slug)})`;
  const actor = `@${payload.sender.login}`;
  try {
    if (command.kind === "status") {
      await replyOnIssue(context.octokit, here, `${link} is \`${task.status}\`${task.stage ? ` in ${task.stage.name}` : ""}.`);
      return;
    }
    const updated = await perform(deps, integration.teamId, task, command, actor);
    if (command.kind === "create") await replyOnIssue(context.octokit, here, `${link}: follow-up queued; it goes through Code, Review and Complete on this pull request.`);
    // The tracking comment lives on the task's issue, wherever the command was given.
    if (updated.issue_number) await updateTracking(deps, context.octokit, { owner, repo, issue_number: updated.issue_number }, updated);
  } catch (error) {
    // A refused action (already cancelled, a run still active …) is answered, not thrown.
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    await replyOnIssue(context.octokit, here, `${link}: ${error.message}.`);
  }
}

function perform(deps: AppDeps, teamId: string, task: TaskView, command: Exclude<TaskCommand, { kind: "status" | "help" }>, actor: string): Promise<TaskView> {
  switch (command.kind) {
    case "create":
      return deps.tasks.requestFollowUp(teamId, task.id, command.instructions, actor);
    case "cancel":
      return deps.tasks.cancelTask(teamId, task.id, actor);
    case "retry":
      return deps.tasks.runTask(teamId, task.id, actor);
    case "approve":
      return deps.tasks.approveTask(teamId, task.id, actor);
  }
}

function helpText(deps: AppDeps): string {
  const c = deps.command;
  return [
    "**Tasks** commands (write access needed):",
    "",
    `- \`${c} [instructions]\` start a task for this issue (on a task's pull request: a follow-up run with these instructions)`,
    `- \`${c} status\` where the task is`,
    `- \`${c} cancel\` stop it`,
    `- \`${c} retry\` run it again after a failure or cancel`,
    `- \`${c} approve\` release a stage that waits for approval`,
    `- \`${c} help\` this message`,
    "",
    `Adding the \`${deps.label}\` label also starts a task.`,
  ].join("\n");
}
