// The vocabulary of the stage pipeline, shared by both engines. Plain serialisable data only:
// it travels through Temporal payloads and is stored in the database by the embedded runner.

export type AgentRole = "planner" | "coder" | "reviewer";

export interface StageSpec {
  key: string;
  name: string;
  agentRole: AgentRole | null;
  requiresApproval: boolean;
  /** The stage that publishes the pull request; without one, the last stage does. */
  opensPullRequest: boolean;
}

export interface RunRef {
  taskId: string;
  runId: string;
  attempt: number;
}

export interface PipelineInput extends RunRef {
  /** The workflow's stages in order, as they were when the run started. */
  stages: StageSpec[];
  /** Where the run begins: the task's current stage. */
  startStage: string;
  /** A follow-up (a `/task` comment on the task's PR) goes through Code → Review → Complete. */
  kind: "initial" | "followup";
  /** How often a reviewer may send the task back to Code before it continues with notes. */
  maxReviewLoops: number;
}

export type Outcome =
  | { status: "completed"; prUrl: string | null; note: string | null }
  | { status: "failed"; stage: string; reason: string }
  | { status: "cancelled"; stage: string };

/** Side effects the pipeline asks its engine to perform. */
export type Command =
  | { type: "checkFlag" }
  | { type: "enterStage"; stage: string }
  | { type: "runAgent"; stage: string; role: AgentRole; iteration: number; reviewNotesRef: string | null }
  | { type: "waitForApproval"; stage: string }
  | { type: "publish"; stage: string; reviewNotesRef: string | null }
  | { type: "finish"; outcome: Outcome };

/** What a command came to, fed back into the pipeline. */
export type StepResult =
  | { type: "flagChecked"; enabled: boolean }
  | { type: "stageEntered" }
  | { type: "agentSucceeded"; verdict: "approve" | "request_changes" | null; outputRef: string | null }
  | { type: "agentFailed"; reason: string }
  | { type: "approved" }
  | { type: "moved"; stage: string }
  | { type: "published"; prUrl: string | null; note: string | null }
  | { type: "publishFailed"; reason: string }
  | { type: "cancelled" }
  | { type: "finished" };

export type Phase = "flag" | "enter" | "agent" | "approval" | "publish" | "finish" | "done";

export interface PipelineState {
  input: PipelineInput;
  stageIndex: number;
  phase: Phase;
  /** How often a reviewer has sent the task back to Code in this run. */
  reviewLoops: number;
  /** The latest review's output, for the next coder pass and the PR body. */
  reviewNotesRef: string | null;
  /** Set once the pipeline knows how the run ends. */
  outcome: Outcome | null;
  prUrl: string | null;
  note: string | null;
}
