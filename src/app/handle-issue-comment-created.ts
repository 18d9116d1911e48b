// `/task …` comments on an issue: create, status, cancel, retry, approve, help.
import type { Context } from "probot";
import { AppError } from "../lib/errors.ts";
import { replyOnIssue, taskUrl, type AppDeps } from "./app-deps.ts";
import { authorizeSender } from "./authorize-sender.ts";
import { parseTaskCommand, type TaskCommand } from "./parse-task-command.ts";
import { startIssueTask, updateTracking } from "./start-issue-task.ts";

export async function handleIssueCommentCreated(deps: AppDeps, context: Context<"issue_comment.created">): Promise<void> {
  const { payload } = context;
  if (context.isBot || payload.comment.user?.type === "Bot" || !payload.installation) return;
  const command = parseTaskCommand(payload.comment.body ?? "", deps.command);
  if (!command) return;
  // Follow-ups on a task's pull request need the orchestration engines; until then PR comments are ignored.
  if (payload.issue.pull_request) return;
  const react = async () => {
    await context.octokit.rest.reactions.createForIssueComment({ ...context.repo(), comment_id: payload.comment.id, content: "eyes" });
  };
  if (command.kind === "create") {
    await startIssueTask(deps, {
      octokit: context.octokit,
      issue: context.issue(),
      repository: payload.repository.full_name,
      installationId: payload.installation.id,
      title: payload.issue.title,
      body: payload.issue.body ?? "",
      sender: payload.sender,
      source: "comment",
      instructions: command.instructions,
      react,
    });
    return;
  }
  await runIssueCommand(deps, context, command, react);
}

async function runIssueCommand(deps: AppDeps, context: Context<"issue_comment.created">, command: Exclude<TaskCommand, { kind: "create" }>, react: () => Promise<void>): Promise<void> {
  const { payload } = context;
  const issue = context.issue();
  const integration = await deps.tasks.findInstalledRepository(payload.installation!.id, payload.repository.full_name);
  if (!integration) return;
  const { owner, repo } = context.repo();
  const verdict = await authorizeSender({ octokit: context.octokit, owner, repo, sender: payload.sender });
  if (!verdict.allowed) {
    if (verdict.reply) await replyOnIssue(context.octokit, issue, `Tasks did not act: ${verdict.reason}.`);
    return;
  }
  await react().catch((error: unknown) => deps.log.warn({ err: error }, "could not add the 👀 reaction"));
  if (command.kind === "help") {
    await replyOnIssue(context.octokit, issue, helpText(deps));
    return;
  }
  const task = await deps.tasks.findLatestIssueTask(payload.repository.full_name, issue.issue_number);
  if (!task) {
    await replyOnIssue(context.octokit, issue, `No task has been started for this issue. Comment \`${deps.command}\` to start one.`);
    return;
  }
  const link = `[${task.slug}](${taskUrl(deps, task.id)})`;
  const actor = `@${payload.sender.login}`;
  try {
    if (command.kind === "status") {
      await replyOnIssue(context.octokit, issue, `${link} is \`${task.status}\`${task.stage ? ` in ${task.stage.name}` : ""}.`);
      return;
    }
    const updated =
      command.kind === "cancel"
        ? await deps.tasks.cancelTask(integration.teamId, task.id, actor)
        : command.kind === "retry"
          ? await deps.tasks.runTask(integration.teamId, task.id, actor)
          : await deps.tasks.approveTask(integration.teamId, task.id, actor);
    await updateTracking(deps, context.octokit, issue, updated);
  } catch (error) {
    // A refused action (already cancelled, a run still active …) is answered, not thrown.
    if (!(error instanceof AppError) || error.status >= 500) throw error;
    await replyOnIssue(context.octokit, issue, `${link}: ${error.message}.`);
  }
}

function helpText(deps: AppDeps): string {
  const c = deps.command;
  return [
    "**Tasks** commands (write access needed):",
    "",
    `- \`${c} [instructions]\` start a task for this issue, with optional extra instructions`,
    `- \`${c} status\` where the issue's task is`,
    `- \`${c} cancel\` stop it`,
    `- \`${c} retry\` run it again after a failure or cancel`,
    `- \`${c} approve\` release a stage that waits for approval`,
    `- \`${c} help\` this message`,
    "",
    `Adding the \`${deps.label}\` label also starts a task.`,
  ].join("\n");
}
