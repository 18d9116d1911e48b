// The stage machine: the one definition of what happens to a task, as a pure function of its
// state. No I/O, clock or randomness — engines ask nextCommand(), perform it, and feed the
// result to applyResult(). Temporal replays it; the embedded runner persists and replays it.
import type { Command, Outcome, PipelineInput, PipelineState, StageSpec, StepResult } from "./types.ts";

export const defaultMaxReviewLoops = 2;

function stageAt(state: PipelineState): StageSpec {
  const stage = state.input.stages[state.stageIndex];
  if (!stage) throw new Error(`pipeline has no stage at index ${state.stageIndex}`);
  return stage;
}

/** The publishing stage: the one marked to open the PR, else the last. */
export function publishingStageIndex(stages: StageSpec[]): number {
  const marked = stages.findIndex((stage) => stage.opensPullRequest);
  return marked >= 0 ? marked : stages.length - 1;
}

function startIndex(input: PipelineInput): number {
  if (input.stages.length === 0) throw new Error("a workflow needs at least one stage");
  if (input.kind === "followup") {
    const coder = input.stages.findIndex((stage) => stage.agentRole === "coder");
    if (coder >= 0) return coder;
  }
  const index = input.stages.findIndex((stage) => stage.key === input.startStage);
  return index >= 0 ? index : 0;
}

export function startPipeline(input: PipelineInput): PipelineState {
  return { input, stageIndex: startIndex(input), phase: "flag", reviewLoops: 0, reviewNotesRef: null, outcome: null, prUrl: null, note: null };
}

export function nextCommand(state: PipelineState): Command | undefined {
  switch (state.phase) {
    case "flag":
      return { type: "checkFlag" };
    case "enter":
      return { type: "enterStage", stage: stageAt(state).key };
    case "agent": {
      const stage = stageAt(state);
      return { type: "runAgent", stage: stage.key, role: stage.agentRole!, iteration: state.reviewLoops, reviewNotesRef: state.reviewNotesRef };
    }
    case "approval":
      return { type: "waitForApproval", stage: stageAt(state).key };
    case "publish":
      return { type: "publish", stage: stageAt(state).key, reviewNotesRef: state.reviewNotesRef };
    case "finish":
      return { type: "finish", outcome: state.outcome! };
    case "done":
      return undefined;
  }
}

const finishWith = (state: PipelineState, outcome: Outcome): PipelineState => ({ ...state, phase: "finish", outcome });
const fail = (state: PipelineState, reason: string) => finishWith(state, { status: "failed", stage: stageAt(state).key, reason });

/** After a stage's agent (or on entering a stage without one): approval, publishing, or the next stage. */
function afterAgent(state: PipelineState): PipelineState {
  if (stageAt(state).requiresApproval) return { ...state, phase: "approval" };
  return afterApproval(state);
}

function afterApproval(state: PipelineState): PipelineState {
  if (state.stageIndex === publishingStageIndex(state.input.stages)) return { ...state, phase: "publish" };
  return advance(state);
}

function advance(state: PipelineState): PipelineState {
  const next = state.stageIndex + 1;
  if (next >= state.input.stages.length) {
    return finishWith(state, { status: "completed", prUrl: state.prUrl, note: state.note });
  }
  return { ...state, stageIndex: next, phase: "enter" };
}

function moveTo(state: PipelineState, key: string): PipelineState {
  const index = state.input.stages.findIndex((stage) => stage.key === key);
  if (index < 0) return fail(state, `cannot move to unknown stage "${key}"`);
  return { ...state, stageIndex: index, phase: "enter" };
}

function afterReview(state: PipelineState, outputRef: string | null): PipelineState {
  const coder = state.input.stages.findIndex((stage) => stage.agentRole === "coder");
  if (coder < 0 || state.reviewLoops >= state.input.maxReviewLoops) {
    // Out of loops (or nothing to send back to): continue, with the review's notes attached.
    return afterAgent({ ...state, reviewNotesRef: outputRef ?? state.reviewNotesRef });
  }
  return { ...state, stageIndex: coder, phase: "enter", reviewLoops: state.reviewLoops + 1, reviewNotesRef: outputRef };
}

export function applyResult(state: PipelineState, result: StepResult): PipelineState {
  if (state.phase === "done") throw new Error(`the pipeline is done; unexpected ${result.type}`);
  // Cancellation and manual moves may arrive whatever step was in flight.
  if (result.type === "cancelled") {
    return state.phase === "finish" ? state : finishWith(state, { status: "cancelled", stage: stageAt(state).key });
  }
  if (result.type === "moved") {
    if (state.phase === "finish") return state;
    const moved = moveTo(state, result.stage);
    // Before the flag check, a move only changes where the run will begin.
    return state.phase === "flag" && moved.phase === "enter" ? { ...moved, phase: "flag" } : moved;
  }

  switch (state.phase) {
    case "flag":
      if (result.type !== "flagChecked") break;
      return result.enabled ? { ...state, phase: "enter" } : fail(state, 'the "tasks" feature flag is off for this team');
    case "enter":
      if (result.type !== "stageEntered") break;
      return stageAt(state).agentRole ? { ...state, phase: "agent" } : afterAgent(state);
    case "agent":
      if (result.type === "agentFailed") return fail(state, result.reason);
      if (result.type !== "agentSucceeded") break;
      if (stageAt(state).agentRole === "reviewer" && result.verdict === "request_changes") return afterReview(state, result.outputRef);
      return afterAgent(stageAt(state).agentRole === "reviewer" ? { ...state, reviewNotesRef: result.outputRef ?? state.reviewNotesRef } : state);
    case "approval":
      if (result.type !== "approved") break;
      return afterApproval(state);
    case "publish":
      if (result.type === "publishFailed") return fail(state, result.reason);
      if (result.type !== "published") break;
      return advance({ ...state, prUrl: result.prUrl, note: result.note });
    case "finish":
      if (result.type !== "finished") break;
      return { ...state, phase: "done" };
  }
  throw new Error(`pipeline in phase "${state.phase}" cannot take a "${result.type}" result`);
}

/** A small summary for status queries and logs. */
export function describeState(state: PipelineState): { phase: string; stage: string; reviewLoops: number; outcome: Outcome | null } {
  return { phase: state.phase, stage: stageAt(state).key, reviewLoops: state.reviewLoops, outcome: state.outcome };
}
