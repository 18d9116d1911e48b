// One check run per stage, `Tasks · <Stage name>`, found again by its external_id
// (`<runId>:<stageKey>`) and updated in place, so a retried step never adds a second one.
// Conclusions are honest: a failed stage is `failure`, never `neutral` or `skipped`.
// The output is agent text: mentions and outside images are made inert (agent-markdown.ts).
import type { ProbotOctokit } from "probot";
import { AppError } from "../lib/errors.ts";
import { publishableMarkdown } from "./agent-markdown.ts";
import { maxCheckOutputBytes } from "./github-limits.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export type CheckStatus = "queued" | "in_progress" | "completed";
export type CheckConclusion = "success" | "failure" | "cancelled" | "action_required";

export interface StageCheckRunInput {
  owner: string;
  repo: string;
  headSha: string;
  stageName: string;
  /** `stageExternalId(runId, stageKey)`. */
  externalId: string;
  status: CheckStatus;
  /** Required exactly when `status` is `completed`. */
  conclusion?: CheckConclusion;
  title: string;
  /** The stage's output; only its tail is kept when it is too long. */
  summary: string;
  detailsUrl: string;
  /** The app's id: narrows the lookup to runs this app made. */
  appId?: number;
  /** Logins whose @-mentions stay live; by default none: a check run has no one to call. */
  mentionable?: readonly (string | null | undefined)[];
}

/** GitHub's limit for `output.summary` (documented in characters; bytes is the safe reading). */
export const maxSummaryBytes = maxCheckOutputBytes;
const maxTitleChars = 255;

export const checkRunName = (stageName: string): string => `Tasks · ${stageName}`;
export const stageExternalId = (runId: string, stageKey: string): string => `${runId}:${stageKey}`;

export async function upsertStageCheckRun(octokit: Octokit, input: StageCheckRunInput): Promise<{ id: number; created: boolean }> {
  if ((input.status === "completed") !== (input.conclusion !== undefined)) {
    throw new AppError("invalid", "invalid_check_run", "a conclusion is given exactly when the status is completed");
  }
  const name = checkRunName(input.stageName);
  const fields = {
    name,
    status: input.status,
    external_id: input.externalId,
    details_url: input.detailsUrl,
    output: {
      title: publishableMarkdown(input.title, { maxChars: maxTitleChars, keep: "head", mentionable: input.mentionable }),
      summary: publishableMarkdown(input.summary, { maxBytes: maxSummaryBytes, keep: "tail", mentionable: input.mentionable }),
    },
    ...(input.conclusion ? { conclusion: input.conclusion, completed_at: new Date().toISOString() } : {}),
  };

  const existing = await findCheckRun(octokit, input, name);
  if (existing !== undefined) {
    await octokit.rest.checks.update({ owner: input.owner, repo: input.repo, check_run_id: existing, ...fields });
    return { id: existing, created: false };
  }
  const created = await octokit.rest.checks.create({
    owner: input.owner,
    repo: input.repo,
    head_sha: input.headSha,
    ...fields,
    ...(input.status === "in_progress" ? { started_at: new Date().toISOString() } : {}),
  });
  return { id: created.data.id, created: true };
}

async function findCheckRun(octokit: Octokit, input: StageCheckRunInput, name: string): Promise<number | undefined> {
  // `filter: all` also finds an older run of ours that a later one with the same name shadows.
  const runs = await octokit.paginate(octokit.rest.checks.listForRef, {
    owner: input.owner,
    repo: input.repo,
    ref: input.headSha,
    check_name: name,
    filter: "all",
    per_page: 100,
    ...(input.appId === undefined ? {} : { app_id: input.appId }),
  });
  return runs.find((run) => run.external_id === input.externalId)?.id;
}
