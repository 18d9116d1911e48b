// The side effects the pipeline's commands map to: one typed interface, implemented for real
// in src/activities/ and by fakes in tests. Every activity takes one serialisable object and
// returns one, and must be idempotent: engines may run an activity again after a crash.
import type { AgentRole, Outcome, PipelineInput, RunRef } from "./types.ts";

export interface AgentOutput {
  /** The reviewer's verdict; null for other roles. */
  verdict: "approve" | "request_changes" | null;
  /** Where the agent's text (plan, summary, review) is stored; only the reference travels. */
  outputRef: string | null;
}

export interface PublishOutput {
  prUrl: string | null;
  /** Why nothing was published, e.g. "no changes". */
  note: string | null;
}

/** A step at one stage: its key, and its display name from the run's PipelineInput.stages. */
export interface StageArgs extends RunRef {
  stage: string;
  stageName: string;
}

export interface AgentArgs extends StageArgs {
  role: AgentRole;
  iteration: number;
  reviewNotesRef: string | null;
}

export interface PublishArgs extends StageArgs {
  reviewNotesRef: string | null;
}

export interface FinishArgs extends RunRef {
  outcome: Outcome;
  /** The display name of the outcome's stage; absent for a completed run (it names no stage). */
  stageName?: string;
}

export interface PipelineActivities {
  /** Reads the run's pipeline input (stages, start stage) from the database. */
  loadRun(run: RunRef): Promise<PipelineInput>;
  checkFlag(run: RunRef): Promise<{ enabled: boolean }>;
  /** Records the stage as current (TaskEvent, task status `running`) and reports progress. */
  enterStage(args: StageArgs): Promise<void>;
  /**
   * Runs the stage's agent; throws a permanent failure with a readable reason when it fails.
   * The signal aborts the agent promptly when the run is cancelled.
   */
  runAgent(args: AgentArgs, signal?: AbortSignal): Promise<AgentOutput>;
  /** Marks the task `waiting_approval` for the stage; the engine then waits for a decision. */
  markWaiting(args: StageArgs): Promise<void>;
  publish(args: PublishArgs, signal?: AbortSignal): Promise<PublishOutput>;
  /** Records the outcome: run and task status, final events and progress. */
  finish(args: FinishArgs): Promise<void>;
  /** Releases what the run holds (sandbox); harmless to call twice. */
  cleanup(run: RunRef): Promise<void>;
}

/** Thrown by activities for failures that retrying cannot fix (permission, validation, not found). */
export const permanentFailureType = "PermanentTaskFailure";
