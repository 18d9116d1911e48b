// The path both triggers share (label and `/task` comment): check the repository is installed,
// check the sender (a refusal is answered sparingly: trigger-limits.ts), hold a comment's command
// to the per-user and per-repository limits, acknowledge with 👀, then create the task — or
// point at the issue's active task instead of starting a second one.
import { upsertTrackingComment } from "../github/tracking-comment.ts";
import type { TaskView } from "../tasks/task-view.ts";
import { taskUrl, replyOnIssue, type AppDeps, type IssueRef, type Octokit } from "./app-deps.ts";
import { authorizeSender } from "./authorize-sender.ts";
import { mayAnswerRefusal, takeCommandBudget, type RefusalRef } from "./trigger-limits.ts";
import { describeHiddenText, findHiddenText, stripHiddenText } from "../lib/strip-hidden-text.ts";

export interface IssueTrigger {
  octokit: Octokit;
  issue: IssueRef;
  /** `owner/repo` as GitHub spells it. */
  repository: string;
  installationId: number;
  title: string;
  body: string;
  sender: { login: string; id: number; type: string };
  source: "label" | "comment";
  /** X-GitHub-Delivery: the inbox may run a delivery again after a crash, and must find its task. */
  deliveryId: string;
  /** Extra instructions from a `/task …` comment. */
  instructions?: string;
  /** Puts 👀 on whatever triggered (the issue or the comment). */
  react(): Promise<void>;
}

/** What both trigger events carry about the issue, whichever event it is. */
export interface IssueEventContext {
  /** The delivery id (Probot's context.id). */
  id: string;
  octokit: Octokit;
  issue(): IssueRef;
  payload: {
    repository: { full_name: string };
    installation?: { id: number } | undefined;
    issue: { title: string; body?: string | null };
    sender: { login: string; id: number; type: string };
  };
}

/** The parts of an IssueTrigger that come straight from the event. */
export function issueTriggerFrom(context: IssueEventContext, installationId: number): Omit<IssueTrigger, "source" | "react" | "instructions"> {
  const { payload } = context;
  return {
    deliveryId: context.id,
    octokit: context.octokit,
    issue: context.issue(),
    repository: payload.repository.full_name,
    installationId,
    title: payload.issue.title,
    body: payload.issue.body ?? "",
    sender: payload.sender,
  };
}

export async function startIssueTask(deps: AppDeps, trigger: IssueTrigger): Promise<void> {
  const { tasks } = deps;
  const log = deps.log.child({ deliveryId: trigger.deliveryId });
  const integration = await tasks.findInstalledRepository(trigger.installationId, trigger.repository);
  if (!integration) {
    log.info({ repository: trigger.repository }, "ignoring a trigger from a repository that is not installed");
    return;
  }
  const verdict = await authorizeSender({ octokit: trigger.octokit, owner: trigger.issue.owner, repo: trigger.issue.repo, sender: trigger.sender });
  if (!verdict.allowed) {
    if (verdict.reply && (await mayAnswerRefusal(deps, refusalOf(trigger)))) await replyOnIssue(trigger.octokit, trigger.issue, `Tasks did not start: ${verdict.reason}.`);
    return;
  }
  if (trigger.source === "comment") {
    const budget = await takeCommandBudget(deps, { repository: trigger.repository, sender: trigger.sender });
    if (!budget.allowed) {
      if (budget.reply) await replyOnIssue(trigger.octokit, trigger.issue, budget.reply);
      return;
    }
  }
  await trigger.react().catch((error: unknown) => log.warn({ err: error }, "could not add the 👀 reaction"));

  const title = stripHiddenText(trigger.title).trim() || `Issue #${trigger.issue.issue_number}`;
  const issueText = stripHiddenText(trigger.body).trim();
  const description = trigger.instructions ? `${issueText}\n\n## Instructions from @${trigger.sender.login}\n\n${trigger.instructions}`.trim() : issueText;
  // What was removed goes in the task's log: a reviewer can see that the issue tried to hide something.
  const hidden = findHiddenText(trigger.title, trigger.body);
  const userId = await tasks.ensureGitHubUser(integration.teamId, trigger.sender);
  const result = await tasks.createAndRun({
    teamId: integration.teamId,
    title: title.slice(0, 300),
    description: description || title,
    originProduct: "user_created",
    userId,
    repository: trigger.repository,
    source: trigger.source,
    issueNumber: trigger.issue.issue_number,
    // A delivery's payload never changes, so its id stands for the request.
    idempotency: { key: `github-delivery:${trigger.deliveryId}`, requestHash: trigger.deliveryId },
    triggerSnapshot: {
      title: trigger.title,
      body: trigger.body,
      instructions: trigger.instructions ?? null,
      sender: trigger.sender.login,
      source: trigger.source,
    },
    ...(hidden.characters > 0 ? { creationNote: { message: describeHiddenText(hidden, "the issue"), data: { hidden_text_removed: { characters: hidden.characters, kinds: hidden.kinds } } } } : {}),
  });
  if (result.existing === "active_issue_task") {
    await replyOnIssue(trigger.octokit, trigger.issue, `[${result.task.slug}](${taskUrl(deps, result.task.slug)}) is already working on this issue (\`${result.task.status}\`). Use \`${deps.command} status\` or \`${deps.command} cancel\`.`);
    return;
  }
  await updateTracking(deps, trigger.octokit, trigger.issue, result.task, { ensureOnly: true });
}

const refusalOf = (trigger: IssueTrigger): RefusalRef => ({
  deliveryId: trigger.deliveryId,
  repository: trigger.repository,
  issueNumber: trigger.issue.issue_number,
  senderId: trigger.sender.id,
});

/**
 * Creates or edits the issue's tracking comment from the task as the database has it now. A new
 * task's trigger only makes sure it exists (`ensureOnly`): its run may have made it already and
 * holds the issue's lock while its next edit waits for the write budget, which a webhook handler
 * must not wait on.
 */
export async function updateTracking(deps: AppDeps, octokit: Octokit, issue: IssueRef, task: TaskView, options: { ensureOnly?: boolean } = {}): Promise<void> {
  if (options.ensureOnly && (await deps.tasks.trackingState(task.id)).commentId !== null) return;
  // Read under the issue's lock: the run may have moved on since this handler began.
  await upsertTrackingComment(octokit, issue, () => deps.tasks.trackingState(task.id), {
    ...options,
    taskUrl: taskUrl(deps, task.slug),
    remember: (commentId, bodyHash) => deps.tasks.rememberTrackingComment(task.id, commentId, bodyHash),
    warning: deps.warning,
  });
}
