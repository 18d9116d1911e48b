import type { Context } from "probot";
import { writeHint } from "../github/write-hint.ts";
import type { Logger } from "../lib/logger.ts";
import { taskPageUrl } from "../lib/task-page-url.ts";
import type { TasksService } from "../tasks/service.ts";

export interface AppDeps {
  tasks: TasksService;
  label: string;
  command: string;
  /** Base URL for links back to Tasks. */
  publicUrl: string;
  /** Shown on every tracking comment when agents run without isolation (sandboxWarning). */
  warning?: string | undefined;
  log: Logger;
  /** The clock the reply and command limits count by (tests move it on). */
  now?: () => Date;
}

export type Octokit = Context["octokit"];

export interface IssueRef {
  owner: string;
  repo: string;
  issue_number: number;
}

/** The task's page on the dashboard. */
export const taskUrl = (deps: Pick<AppDeps, "publicUrl">, slug: string): string => taskPageUrl(deps.publicUrl, slug);

export async function replyOnIssue(octokit: Octokit, issue: IssueRef, body: string): Promise<void> {
  // An answer to someone's command (or a refusal): it goes before any running task's progress.
  await octokit.rest.issues.createComment({ ...issue, body, ...writeHint("acknowledge") });
}
