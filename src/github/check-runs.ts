// One check run per stage, `Tasks · <Stage name>`, updated in place, so a retried step never
// adds a second one. Its id is kept once created (CheckRunMemory), so an update is one PATCH and
// the same state is never sent twice; without a memory it is found again by its external_id
// (`<runId>:<stageKey>`) among this App's runs on the commit.
// Conclusions are honest: a failed stage is `failure`, never `neutral` or `skipped`.
// The output is agent text: mentions and outside images are made inert (agent-markdown.ts).
import { createHash } from "node:crypto";
import type { ProbotOctokit } from "probot";
import { AppError } from "../lib/errors.ts";
import { publishableMarkdown } from "./agent-markdown.ts";
import { maxCheckOutputBytes } from "./github-limits.ts";
import { writeHint } from "./write-hint.ts";

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
  /** What was last sent for this check run (durable): its id and a hash of the state sent. */
  memory?: CheckRunMemory;
  /**
   * `progress` (default) while a stage runs: a newer state of the same run supersedes a queued
   * one; `publish` for the conclusions posted with the pull request.
   */
  priority?: "progress" | "publish";
}

export interface SentCheckRunState {
  checkRunId: number;
  /** sha256 of the fields sent (status, conclusion, output, …), `completed_at` aside. */
  sentHash: string;
}

export interface CheckRunMemory {
  recall(): Promise<SentCheckRunState | null>;
  remember(sent: SentCheckRunState): Promise<void>;
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
  const state = {
    name,
    status: input.status,
    external_id: input.externalId,
    details_url: input.detailsUrl,
    output: {
      title: publishableMarkdown(input.title, { maxChars: maxTitleChars, keep: "head", mentionable: input.mentionable }),
      summary: publishableMarkdown(input.summary, { maxBytes: maxSummaryBytes, keep: "tail", mentionable: input.mentionable }),
    },
    ...(input.conclusion ? { conclusion: input.conclusion } : {}),
  };
  const sentHash = createHash("sha256").update(JSON.stringify(state)).digest("hex");
  const fields = { ...state, ...(input.conclusion ? { completed_at: new Date().toISOString() } : {}) };
  // Publish-time conclusions go to a new head: no key, so nothing supersedes them.
  const hint = input.priority === "publish" ? writeHint("publish") : writeHint("progress", `check-run:${input.externalId}`);

  const known = input.memory ? await input.memory.recall() : null;
  if (known?.sentHash === sentHash) return { id: known.checkRunId, created: false };
  // With a memory, a run it does not know is created without a listing first: the memory is the
  // dedupe. Only a create whose answer was lost can leave a twin, and GitHub shows the newest
  // run of a name on a commit, which carries the same state.
  const existing = known?.checkRunId ?? (input.memory ? undefined : await findCheckRun(octokit, input, name));
  if (existing !== undefined) {
    await octokit.rest.checks.update({ owner: input.owner, repo: input.repo, check_run_id: existing, ...fields, ...hint });
    await input.memory?.remember({ checkRunId: existing, sentHash });
    return { id: existing, created: false };
  }
  const created = await octokit.rest.checks.create({
    owner: input.owner,
    repo: input.repo,
    head_sha: input.headSha,
    ...fields,
    ...(input.status === "in_progress" ? { started_at: new Date().toISOString() } : {}),
    ...hint,
  });
  await input.memory?.remember({ checkRunId: created.data.id, sentHash });
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
