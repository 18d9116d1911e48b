import { describe, expect, it } from "vitest";
import { applyResult, startPipeline } from "../../src/pipeline/machine.ts";
import type { PipelineInput, PipelineState, StageSpec } from "../../src/pipeline/types.ts";
import { createRunInbox } from "../../src/temporal/run-inbox.ts";

const stage = (key: string, agentRole: StageSpec["agentRole"]): StageSpec => ({ key, name: key, agentRole, requiresApproval: false, opensPullRequest: false });
const input: PipelineInput = {
  taskId: "t1",
  runId: "r1",
  attempt: 1,
  stages: [stage("plan", "planner"), stage("code", "coder"), stage("review", "reviewer"), { ...stage("complete", null), opensPullRequest: true }],
  startStage: "plan",
  kind: "initial",
  maxReviewLoops: 2,
};
const running = (): PipelineState => applyResult(applyResult(startPipeline(input), { type: "flagChecked", enabled: true }), { type: "stageEntered" });

describe("createRunInbox", () => {
  it("has no decision until an operator sends one", () => {
    const inbox = createRunInbox();
    inbox.openApprovalWait();
    expect(inbox.hasDecision()).toBe(false);
    expect(inbox.takeDecision()).toBeUndefined();
    inbox.approve();
    expect(inbox.hasDecision()).toBe(true);
    expect(inbox.takeDecision()).toEqual({ type: "approved" });
    expect(inbox.hasDecision()).toBe(false);
  });

  it("forgets approvals sent before the wait began", () => {
    const inbox = createRunInbox();
    inbox.approve();
    inbox.approve();
    inbox.openApprovalWait();
    expect(inbox.hasDecision()).toBe(false);
  });

  it("lets a move end the wait, ahead of an approval", () => {
    const inbox = createRunInbox();
    inbox.openApprovalWait();
    inbox.approve();
    inbox.move("code");
    expect(inbox.takeDecision()).toEqual({ type: "moved", stage: "code" });
    expect(inbox.takeDecision()).toEqual({ type: "approved" });
  });

  it("applies moves that arrived during a step, in order, once", () => {
    const inbox = createRunInbox();
    const state = running();
    expect(inbox.applyMoves(state)).toBe(state);
    inbox.move("review");
    inbox.move("code");
    const moved = inbox.applyMoves(state);
    expect(moved).toMatchObject({ phase: "enter", stageIndex: 1 });
    expect(inbox.applyMoves(moved)).toBe(moved);
  });

  it("drops moves once the run is done", () => {
    const inbox = createRunInbox();
    const finishing = applyResult(running(), { type: "agentFailed", reason: "boom" });
    const done = applyResult(finishing, { type: "finished" });
    inbox.move("code");
    expect(inbox.applyMoves(done)).toBe(done);
    expect(inbox.hasDecision()).toBe(false);
  });
});
