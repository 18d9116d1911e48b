import type { Context } from "probot";
import { writeHint } from "../github/write-hint.ts";
import type { AppDeps } from "./app-deps.ts";
import { issueTriggerFrom, startIssueTask } from "./start-issue-task.ts";

/** `issues.labeled` with TASKS_LABEL starts a task from the issue. */
export async function handleIssuesLabeled(deps: AppDeps, context: Context<"issues.labeled">): Promise<void> {
  const { payload } = context;
  if (payload.label?.name !== deps.label || !payload.installation) return;
  if (payload.issue.pull_request) return;
  await startIssueTask(deps, {
    ...issueTriggerFrom(context, payload.installation.id),
    source: "label",
    react: async () => {
      await context.octokit.rest.reactions.createForIssue({ ...context.issue(), content: "eyes", ...writeHint("acknowledge") });
    },
  });
}
