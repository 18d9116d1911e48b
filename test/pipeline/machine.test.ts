import { describe, expect, it } from "vitest";
import {
  applyResult,
  defaultMaxReviewLoops,
  describeState,
  nextCommand,
  publishingStageIndex,
  startPipeline,
} from "../../src/pipeline/machine.ts";
import type { AgentRole, Command, Outcome, PipelineInput, PipelineState, Phase, StageSpec, StepResult } from "../../src/pipeline/types.ts";
import { defaultStages } from "../../src/tasks/default-workflow.ts";
import { defaultReply, drive, inOrder, outputRef, prUrl, type Script } from "./drive.ts";

// Fixtures ---------------------------------------------------------------------------------------

function stage(key: string, agentRole: AgentRole | null, extra: Partial<StageSpec> = {}): StageSpec {
  return { key, name: key, agentRole, requiresApproval: false, opensPullRequest: false, ...extra };
}

/** Plan (planner) → Code (coder) → Review (reviewer) → Complete (no agent, opens the PR). */
const defaultWorkflow: StageSpec[] = defaultStages.map((spec) => ({ ...spec }));

const planNeedsApproval: StageSpec[] = defaultWorkflow.map((spec) => (spec.key === "plan" ? { ...spec, requiresApproval: true } : spec));

/** Code opens the PR; Review and a final no-agent stage come after it. */
const publishesEarly: StageSpec[] = [
  stage("plan", "planner"),
  stage("code", "coder", { opensPullRequest: true }),
  stage("review", "reviewer"),
  stage("done", null),
];

const singleNoAgentStage: StageSpec[] = [stage("ship", null)];

/** Nothing for a reviewer to send the task back to. */
const withoutCoder: StageSpec[] = [stage("plan", "planner"), stage("review", "reviewer"), stage("complete", null, { opensPullRequest: true })];

function pipelineInput(overrides: Partial<PipelineInput> = {}): PipelineInput {
  return {
    taskId: "task-1",
    runId: "run-1",
    attempt: 1,
    stages: defaultWorkflow,
    startStage: "plan",
    kind: "initial",
    maxReviewLoops: defaultMaxReviewLoops,
    ...overrides,
  };
}

// Commands, spelled out so expected sequences read like the run they describe.
const checkFlag: Command = { type: "checkFlag" };
const enter = (stageKey: string): Command => ({ type: "enterStage", stage: stageKey });
const runAgent = (stageKey: string, role: AgentRole, iteration = 0, reviewNotesRef: string | null = null): Command => ({
  type: "runAgent",
  stage: stageKey,
  role,
  iteration,
  reviewNotesRef,
});
const waitForApproval = (stageKey: string): Command => ({ type: "waitForApproval", stage: stageKey });
const publish = (stageKey: string, reviewNotesRef: string | null): Command => ({ type: "publish", stage: stageKey, reviewNotesRef });
const finish = (outcome: Outcome): Command => ({ type: "finish", outcome });

const completed: Outcome = { status: "completed", prUrl, note: null };
const cancelled: StepResult = { type: "cancelled" };
const moved = (stageKey: string): StepResult => ({ type: "moved", stage: stageKey });
const requestChanges = (ref: string | null): StepResult => ({ type: "agentSucceeded", verdict: "request_changes", outputRef: ref });

const reviewNotes = outputRef("review", 0);

const happyPath: Command[] = [
  checkFlag,
  enter("plan"),
  runAgent("plan", "planner"),
  enter("code"),
  runAgent("code", "coder"),
  enter("review"),
  runAgent("review", "reviewer"),
  enter("complete"),
  publish("complete", reviewNotes),
  finish(completed),
];

/** The stage a command concerns; checkFlag concerns the stage the run starts at. */
const stageOf = (command: Command, startStage: string): string => ("stage" in command ? command.stage : startStage);

/** Replies `result` to the command at `index` (counting every command), defaults otherwise. */
function atCommand(index: number, result: StepResult): Script {
  let seen = 0;
  return (command) => (seen++ === index ? result : defaultReply(command));
}

// Tests ------------------------------------------------------------------------------------------

describe("the default workflow", () => {
  it("runs plan → code → review → complete and opens the PR at complete", () => {
    const { commands, state } = drive(pipelineInput());
    expect(commands).toStrictEqual(happyPath);
    expect(state.phase).toBe("done");
    expect(state.outcome).toStrictEqual({ status: "completed", prUrl, note: null });
    expect(nextCommand(state)).toBeUndefined();
  });

  it("fails without entering a stage when the feature flag is off", () => {
    const { commands, state } = drive(pipelineInput(), { checkFlag: { type: "flagChecked", enabled: false } });
    expect(commands).toStrictEqual([checkFlag, finish({ status: "failed", stage: "plan", reason: 'the "tasks" feature flag is off for this team' })]);
    expect(state.outcome).toMatchObject({ status: "failed", stage: "plan", reason: expect.stringMatching(/feature flag is off/) });
  });

  it("reports the start stage when the flag is off for a run that starts mid-workflow", () => {
    const { commands } = drive(pipelineInput({ startStage: "review" }), { checkFlag: { type: "flagChecked", enabled: false } });
    expect(commands.at(-1)).toMatchObject({ type: "finish", outcome: { status: "failed", stage: "review" } });
  });

  it("starts at the task's current stage", () => {
    const { commands } = drive(pipelineInput({ startStage: "code" }));
    expect(commands).toStrictEqual([checkFlag, ...happyPath.slice(3)]);
  });

  it("starts at the first stage when the current stage is not in the workflow", () => {
    const { commands } = drive(pipelineInput({ startStage: "triage" }));
    expect(commands).toStrictEqual(happyPath);
  });

  it("completes with no PR and the reason when there is nothing to publish", () => {
    const { commands, state } = drive(pipelineInput(), { publish: { type: "published", prUrl: null, note: "no changes" } });
    expect(commands.at(-1)).toStrictEqual(finish({ status: "completed", prUrl: null, note: "no changes" }));
    expect(state.outcome).toStrictEqual({ status: "completed", prUrl: null, note: "no changes" });
  });
});

describe("approval waits", () => {
  const input = pipelineInput({ stages: planNeedsApproval });

  it("waits after the plan agent and continues to code once approved", () => {
    const { commands, state } = drive(input);
    expect(commands).toStrictEqual([...happyPath.slice(0, 3), waitForApproval("plan"), ...happyPath.slice(3)]);
    expect(state.outcome).toStrictEqual(completed);
  });

  it("jumps to the stage the task was moved to during the wait", () => {
    const { commands, state } = drive(input, { waitForApproval: moved("review") });
    expect(commands).toStrictEqual([...happyPath.slice(0, 3), waitForApproval("plan"), ...happyPath.slice(5)]);
    expect(state.outcome).toStrictEqual(completed);
  });

  it("ends cancelled at plan when cancelled during the wait", () => {
    const { commands, state } = drive(input, { waitForApproval: cancelled });
    expect(commands).toStrictEqual([...happyPath.slice(0, 3), waitForApproval("plan"), finish({ status: "cancelled", stage: "plan" })]);
    expect(state.outcome).toStrictEqual({ status: "cancelled", stage: "plan" });
  });

  it("waits right after entering a stage without an agent", () => {
    const stages = defaultWorkflow.map((spec) => (spec.key === "complete" ? { ...spec, requiresApproval: true } : spec));
    const { commands } = drive(pipelineInput({ stages }));
    expect(commands.slice(7)).toStrictEqual([enter("complete"), waitForApproval("complete"), publish("complete", reviewNotes), finish(completed)]);
  });

  it("does not wait for a stage it starts after", () => {
    const { commands } = drive(pipelineInput({ stages: planNeedsApproval, startStage: "code" }));
    expect(commands.some((command) => command.type === "waitForApproval")).toBe(false);
  });
});

describe("reviewer loops", () => {
  /** The reviewer requests changes every time, with notes named after its iteration. */
  const alwaysRequestChanges: Script = {
    runAgent: (command) => (command.role === "reviewer" ? requestChanges(outputRef(command.stage, command.iteration)) : defaultReply(command)),
  };

  it("sends the task back to code with the review's notes and the next iteration", () => {
    const { commands } = drive(pipelineInput(), {
      runAgent: (command) => (command.role === "reviewer" && command.iteration === 0 ? requestChanges("notes-1") : defaultReply(command)),
    });
    expect(commands).toStrictEqual([
      ...happyPath.slice(0, 7),
      enter("code"),
      runAgent("code", "coder", 1, "notes-1"),
      enter("review"),
      runAgent("review", "reviewer", 1, "notes-1"),
      enter("complete"),
      publish("complete", outputRef("review", 1)),
      finish(completed),
    ]);
  });

  it(`loops at most maxReviewLoops (default ${defaultMaxReviewLoops}) times, then continues with the last notes`, () => {
    const { commands, state } = drive(pipelineInput(), alwaysRequestChanges);
    expect(commands).toStrictEqual([
      ...happyPath.slice(0, 7),
      enter("code"),
      runAgent("code", "coder", 1, outputRef("review", 0)),
      enter("review"),
      runAgent("review", "reviewer", 1, outputRef("review", 0)),
      enter("code"),
      runAgent("code", "coder", 2, outputRef("review", 1)),
      enter("review"),
      runAgent("review", "reviewer", 2, outputRef("review", 1)),
      // The third request for changes is one too many: on to complete, notes attached.
      enter("complete"),
      publish("complete", outputRef("review", 2)),
      finish(completed),
    ]);
    expect(state.reviewLoops).toBe(2);
    expect(state.reviewNotesRef).toBe(outputRef("review", 2));
  });

  it.each([0, 1, 3])("honours maxReviewLoops = %i", (maxReviewLoops) => {
    const { commands, state } = drive(pipelineInput({ maxReviewLoops }), alwaysRequestChanges);
    const coderRuns = commands.filter((command) => command.type === "runAgent" && command.role === "coder");
    expect(coderRuns).toHaveLength(maxReviewLoops + 1);
    expect(state.reviewLoops).toBe(maxReviewLoops);
    expect(commands.at(-2)).toStrictEqual(publish("complete", outputRef("review", maxReviewLoops)));
    expect(state.outcome).toStrictEqual(completed);
  });

  it("never loops with maxReviewLoops 0", () => {
    const { commands } = drive(pipelineInput({ maxReviewLoops: 0 }), alwaysRequestChanges);
    expect(commands).toStrictEqual([...happyPath.slice(0, 8), publish("complete", reviewNotes), finish(completed)]);
  });

  it("keeps an approving review's output as the notes for the PR", () => {
    const { commands } = drive(pipelineInput());
    expect(commands.at(-2)).toStrictEqual(publish("complete", reviewNotes));
  });

  it("keeps the earlier notes when the approving review has no output", () => {
    const reviews = inOrder(requestChanges("notes-1"), { type: "agentSucceeded", verdict: "approve", outputRef: null });
    const { commands } = drive(pipelineInput(), { runAgent: (command) => (command.role === "reviewer" ? reviews(command) : defaultReply(command)) });
    expect(commands.at(-2)).toStrictEqual(publish("complete", "notes-1"));
  });

  it("treats a reviewer without a verdict as approving", () => {
    const { commands } = drive(pipelineInput(), {
      runAgent: (command) => (command.role === "reviewer" ? { type: "agentSucceeded", verdict: null, outputRef: "notes" } : defaultReply(command)),
    });
    expect(commands.slice(7)).toStrictEqual([enter("complete"), publish("complete", "notes"), finish(completed)]);
  });

  it("continues with notes when there is no coder stage to send the task back to", () => {
    const { commands, state } = drive(pipelineInput({ stages: withoutCoder }), alwaysRequestChanges);
    expect(commands).toStrictEqual([
      checkFlag,
      enter("plan"),
      runAgent("plan", "planner"),
      enter("review"),
      runAgent("review", "reviewer"),
      enter("complete"),
      publish("complete", outputRef("review", 0)),
      finish(completed),
    ]);
    expect(state.reviewLoops).toBe(0);
  });

  it("waits for the review's approval once out of loops", () => {
    const stages = defaultWorkflow.map((spec) => (spec.key === "review" ? { ...spec, requiresApproval: true } : spec));
    const { commands } = drive(pipelineInput({ stages, maxReviewLoops: 0 }), alwaysRequestChanges);
    expect(commands.slice(6)).toStrictEqual([runAgent("review", "reviewer"), waitForApproval("review"), enter("complete"), publish("complete", reviewNotes), finish(completed)]);
  });
});

describe("cancellation", () => {
  it.each(happyPath.slice(0, -1).map((command, index) => [index, command] as const))(
    "during command %i (%j) ends cancelled at that stage",
    (index, command) => {
      const { commands, state } = drive(pipelineInput(), atCommand(index, cancelled));
      const outcome: Outcome = { status: "cancelled", stage: stageOf(command, "plan") };
      expect(commands).toStrictEqual([...happyPath.slice(0, index + 1), finish(outcome)]);
      expect(state.outcome).toStrictEqual(outcome);
    },
  );

  it("during the flag check of a run that starts mid-workflow is reported at the start stage", () => {
    const { commands } = drive(pipelineInput({ startStage: "review" }), { checkFlag: cancelled });
    expect(commands).toStrictEqual([checkFlag, finish({ status: "cancelled", stage: "review" })]);
  });

  it("during a later coder pass is reported at code", () => {
    const { commands } = drive(pipelineInput(), {
      runAgent: (command) =>
        command.role === "reviewer" ? requestChanges("notes") : command.iteration === 1 ? cancelled : defaultReply(command),
    });
    expect(commands.slice(-2)).toStrictEqual([runAgent("code", "coder", 1, "notes"), finish({ status: "cancelled", stage: "code" })]);
  });

  it("during finish is ignored: the outcome stands", () => {
    const { commands, state } = drive(pipelineInput(), { finish: inOrder(cancelled, { type: "finished" }) });
    expect(commands).toStrictEqual([...happyPath, finish(completed)]);
    expect(state.outcome).toStrictEqual(completed);
  });

  it("during the finish of a failed run leaves it failed", () => {
    const failed: Outcome = { status: "failed", stage: "code", reason: "boom" };
    const { state } = drive(pipelineInput(), {
      runAgent: (command) => (command.role === "coder" ? { type: "agentFailed", reason: "boom" } : defaultReply(command)),
      finish: inOrder(cancelled, { type: "finished" }),
    });
    expect(state.outcome).toStrictEqual(failed);
  });
});

describe("failures", () => {
  it.each([
    ["plan", 2],
    ["code", 4],
    ["review", 6],
  ] as const)("an agent failure at %s fails the run there with the reason", (stageKey, index) => {
    const reason = `the ${stageKey} agent exited with code 1`;
    const { commands, state } = drive(pipelineInput(), {
      runAgent: (command) => (command.stage === stageKey ? { type: "agentFailed", reason } : defaultReply(command)),
    });
    const outcome: Outcome = { status: "failed", stage: stageKey, reason };
    expect(commands).toStrictEqual([...happyPath.slice(0, index + 1), finish(outcome)]);
    expect(state.outcome).toStrictEqual(outcome);
  });

  it("a coder failure on a review loop fails the run at code", () => {
    const { commands } = drive(pipelineInput(), {
      runAgent: (command) =>
        command.role === "reviewer" ? requestChanges("notes") : command.iteration === 1 ? { type: "agentFailed", reason: "timed out" } : defaultReply(command),
    });
    expect(commands.at(-1)).toStrictEqual(finish({ status: "failed", stage: "code", reason: "timed out" }));
  });

  it("a publish failure fails the run at complete", () => {
    const { commands, state } = drive(pipelineInput(), { publish: { type: "publishFailed", reason: "branch protection rejected the push" } });
    const outcome: Outcome = { status: "failed", stage: "complete", reason: "branch protection rejected the push" };
    expect(commands).toStrictEqual([...happyPath.slice(0, -1), finish(outcome)]);
    expect(state.outcome).toStrictEqual(outcome);
  });
});

describe("follow-ups", () => {
  it.each(["plan", "complete", "triage"])("go code → review → complete whatever the start stage (%s)", (startStage) => {
    const { commands, state } = drive(pipelineInput({ kind: "followup", startStage }));
    expect(commands).toStrictEqual([checkFlag, ...happyPath.slice(3)]);
    expect(state.outcome).toStrictEqual(completed);
  });

  it("skip the plan's approval", () => {
    const { commands } = drive(pipelineInput({ kind: "followup", stages: planNeedsApproval }));
    expect(commands).toStrictEqual([checkFlag, ...happyPath.slice(3)]);
  });

  it("loop with the reviewer like any run", () => {
    const { commands } = drive(pipelineInput({ kind: "followup", maxReviewLoops: 1 }), {
      runAgent: (command) => (command.role === "reviewer" ? requestChanges(outputRef("review", command.iteration)) : defaultReply(command)),
    });
    expect(commands.filter((command) => command.type === "runAgent")).toStrictEqual([
      runAgent("code", "coder"),
      runAgent("review", "reviewer"),
      runAgent("code", "coder", 1, reviewNotes),
      runAgent("review", "reviewer", 1, reviewNotes),
    ]);
  });

  it("start at the start stage in a workflow without a coder", () => {
    const { commands } = drive(pipelineInput({ kind: "followup", stages: withoutCoder, startStage: "review" }));
    expect(commands.slice(0, 2)).toStrictEqual([checkFlag, enter("review")]);
  });
});

describe("publishing", () => {
  it("publishes at a marked stage that is not last, then runs the remaining stages", () => {
    const { commands, state } = drive(pipelineInput({ stages: publishesEarly }));
    expect(commands).toStrictEqual([
      checkFlag,
      enter("plan"),
      runAgent("plan", "planner"),
      enter("code"),
      runAgent("code", "coder"),
      publish("code", null),
      enter("review"),
      runAgent("review", "reviewer"),
      enter("done"),
      finish(completed),
    ]);
    expect(state.outcome).toStrictEqual(completed);
  });

  it("publishes again on every pass through a marked stage that a reviewer sends the task back to", () => {
    const { commands, state } = drive(pipelineInput({ stages: publishesEarly, maxReviewLoops: 1 }), {
      runAgent: (command) => (command.role === "reviewer" && command.iteration === 0 ? requestChanges("notes-1") : defaultReply(command)),
      publish: (command) => ({ type: "published", prUrl, note: command.reviewNotesRef }),
    });
    expect(commands.filter((command) => command.type === "publish")).toStrictEqual([publish("code", null), publish("code", "notes-1")]);
    // The PR's latest publication wins.
    expect(state.outcome).toStrictEqual({ status: "completed", prUrl, note: "notes-1" });
  });

  it("keeps the outcome of an early publication through the later stages", () => {
    const { state } = drive(pipelineInput({ stages: publishesEarly }), { publish: { type: "published", prUrl: null, note: "no changes" } });
    expect(state.outcome).toStrictEqual({ status: "completed", prUrl: null, note: "no changes" });
  });

  it("fails at the marked stage when publishing fails there", () => {
    const { commands } = drive(pipelineInput({ stages: publishesEarly }), { publish: { type: "publishFailed", reason: "no push access" } });
    expect(commands.slice(-2)).toStrictEqual([publish("code", null), finish({ status: "failed", stage: "code", reason: "no push access" })]);
  });

  it("runs a workflow of a single no-agent stage: enter, publish, finish", () => {
    const { commands, state } = drive(pipelineInput({ stages: singleNoAgentStage, startStage: "ship" }));
    expect(commands).toStrictEqual([checkFlag, enter("ship"), publish("ship", null), finish(completed)]);
    expect(state.outcome).toStrictEqual(completed);
  });

  it.each([
    ["the marked stage", publishesEarly, 1],
    ["the first marked stage", [stage("a", "coder", { opensPullRequest: true }), stage("b", null, { opensPullRequest: true })], 0],
    ["the last stage when none is marked", [stage("a", "coder"), stage("b", null)], 1],
    ["the only stage", singleNoAgentStage, 0],
  ] as const)("publishingStageIndex picks %s", (_label, stages, index) => {
    expect(publishingStageIndex([...stages])).toBe(index);
  });
});

describe("moves", () => {
  it("to an unknown stage fail the run with a readable reason", () => {
    const { commands, state } = drive(pipelineInput(), { runAgent: (command) => (command.stage === "code" ? moved("qa") : defaultReply(command)) });
    expect(commands.slice(-2)).toStrictEqual([runAgent("code", "coder"), finish({ status: "failed", stage: "code", reason: 'cannot move to unknown stage "qa"' })]);
    expect(state.outcome).toMatchObject({ status: "failed", reason: expect.stringContaining('"qa"') });
  });

  it("during the flag check only change where the run starts; the flag is still checked", () => {
    const { commands } = drive(pipelineInput(), { checkFlag: inOrder(moved("review"), { type: "flagChecked", enabled: true }) });
    expect(commands).toStrictEqual([checkFlag, checkFlag, ...happyPath.slice(5)]);
  });

  it("during the flag check still fail the run when the flag turns out off, at the new start stage", () => {
    const { commands } = drive(pipelineInput(), { checkFlag: inOrder(moved("review"), { type: "flagChecked", enabled: false }) });
    expect(commands).toStrictEqual([checkFlag, checkFlag, finish({ status: "failed", stage: "review", reason: 'the "tasks" feature flag is off for this team' })]);
  });

  it("during the flag check to an unknown stage fail the run at once", () => {
    const { commands } = drive(pipelineInput(), { checkFlag: moved("qa") });
    expect(commands).toStrictEqual([checkFlag, finish({ status: "failed", stage: "plan", reason: 'cannot move to unknown stage "qa"' })]);
  });

  it.each([
    ["entering a stage", 3, "plan"],
    ["an agent run", 4, "plan"],
  ] as const)("during %s re-enter the stage moved to", (_label, index, target) => {
    const { commands } = drive(pipelineInput(), atCommand(index, moved(target)));
    const resumed = happyPath.findIndex((command) => command.type === "enterStage" && command.stage === target);
    expect(commands).toStrictEqual([...happyPath.slice(0, index + 1), ...happyPath.slice(resumed)]);
  });

  it("during publishing re-enter the stage moved to, which sees the notes so far", () => {
    const { commands } = drive(pipelineInput(), atCommand(8, moved("review")));
    expect(commands).toStrictEqual([
      ...happyPath.slice(0, 9),
      enter("review"),
      runAgent("review", "reviewer", 0, reviewNotes),
      enter("complete"),
      publish("complete", reviewNotes),
      finish(completed),
    ]);
  });

  it("during finish are ignored", () => {
    const { commands, state } = drive(pipelineInput(), { finish: inOrder(moved("plan"), { type: "finished" }) });
    expect(commands).toStrictEqual([...happyPath, finish(completed)]);
    expect(state.outcome).toStrictEqual(completed);
  });
});

describe("applyResult", () => {
  const input = pipelineInput({ stages: planNeedsApproval });
  const inPhase = (phase: Phase, stageKey: string, outcome: Outcome | null = null): PipelineState => ({
    ...startPipeline(input),
    stageIndex: input.stages.findIndex((spec) => spec.key === stageKey),
    phase,
    outcome,
  });

  const everyResult: StepResult[] = [
    { type: "flagChecked", enabled: true },
    { type: "stageEntered" },
    { type: "agentSucceeded", verdict: null, outputRef: null },
    { type: "agentFailed", reason: "x" },
    { type: "approved" },
    { type: "published", prUrl: null, note: null },
    { type: "publishFailed", reason: "x" },
    { type: "finished" },
  ];
  const accepted: Record<Exclude<Phase, "done">, { state: PipelineState; types: StepResult["type"][] }> = {
    flag: { state: inPhase("flag", "plan"), types: ["flagChecked"] },
    enter: { state: inPhase("enter", "plan"), types: ["stageEntered"] },
    agent: { state: inPhase("agent", "code"), types: ["agentSucceeded", "agentFailed"] },
    approval: { state: inPhase("approval", "plan"), types: ["approved"] },
    publish: { state: inPhase("publish", "complete"), types: ["published", "publishFailed"] },
    finish: { state: inPhase("finish", "complete", completed), types: ["finished"] },
  };
  const misfits = Object.entries(accepted).flatMap(([phase, { state, types }]) =>
    everyResult.filter((result) => !types.includes(result.type)).map((result) => [phase, result.type, state, result] as const),
  );

  it.each(misfits)('in phase "%s" throws on a "%s" result', (phase, type, state, result) => {
    expect(() => applyResult(state, result)).toThrow(`pipeline in phase "${phase}" cannot take a "${type}" result`);
  });

  it.each([...everyResult, cancelled, moved("plan")])("throws on $type after the run is done", (result) => {
    const { state } = drive(input);
    expect(() => applyResult(state, result)).toThrow(/done/);
  });

  it("never changes the state it is given", () => {
    const deepFreeze = <T>(value: T): T => {
      if (value && typeof value === "object") {
        Object.values(value).forEach(deepFreeze);
        Object.freeze(value);
      }
      return value;
    };
    // Modules run in strict mode, so writing to a frozen state would throw.
    const { states } = drive(deepFreeze(startPipeline(structuredClone(input))), (command, state) => {
      deepFreeze(state);
      return command.type === "runAgent" && command.role === "reviewer" && command.iteration === 0 ? requestChanges("notes") : defaultReply(command);
    });
    expect(states.at(-1)?.outcome).toStrictEqual(completed);
    expect(states[0]).toStrictEqual(startPipeline(input));
  });
});

describe("determinism", () => {
  /** A busy run: an approval wait, review loops, a move back, and a publication with a note. */
  const busyScript = (): Script => {
    const reviews = inOrder(requestChanges("notes-1"), requestChanges("notes-2"));
    const approvals = inOrder({ type: "approved" }, moved("code"));
    return {
      runAgent: (command) => (command.role === "reviewer" ? reviews(command) : defaultReply(command)),
      waitForApproval: approvals,
      publish: { type: "published", prUrl: null, note: "no changes" },
    };
  };
  const input = pipelineInput({ stages: defaultWorkflow.map((spec) => ({ ...spec, requiresApproval: spec.key !== "plan" })) });

  it("issues the same commands and reaches the same states for the same script", () => {
    const first = drive(input, busyScript());
    const second = drive(input, busyScript());
    expect(second.commands).toStrictEqual(first.commands);
    expect(second.states).toStrictEqual(first.states);
    expect(first.commands.length).toBeGreaterThan(happyPath.length);
  });

  it("keeps every state JSON-serialisable", () => {
    const { states } = drive(input, busyScript());
    for (const state of states) expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
  });

  it("resumes identically from a JSON round-tripped state", () => {
    const midway = drive(input, busyScript()).states[7]!;
    const replayed = drive(JSON.parse(JSON.stringify(midway)) as PipelineState, (command) => defaultReply(command));
    const straight = drive(midway, (command) => defaultReply(command));
    expect(replayed.commands).toStrictEqual(straight.commands);
    expect(replayed.state).toStrictEqual(straight.state);
  });
});

describe("startPipeline and describeState", () => {
  it("throws for a workflow with no stages", () => {
    expect(() => startPipeline(pipelineInput({ stages: [] }))).toThrow("a workflow needs at least one stage");
  });

  it("starts at the flag check with no loops, notes or outcome", () => {
    const input = pipelineInput({ startStage: "code" });
    expect(startPipeline(input)).toStrictEqual({
      input,
      stageIndex: 1,
      phase: "flag",
      reviewLoops: 0,
      reviewNotesRef: null,
      outcome: null,
      prUrl: null,
      note: null,
    });
  });

  it("describes the phase, stage, loops and outcome", () => {
    expect(describeState(startPipeline(pipelineInput()))).toStrictEqual({ phase: "flag", stage: "plan", reviewLoops: 0, outcome: null });
    const { state } = drive(pipelineInput({ maxReviewLoops: 1 }), {
      runAgent: (command) => (command.role === "reviewer" ? requestChanges("notes") : defaultReply(command)),
    });
    expect(describeState(state)).toStrictEqual({ phase: "done", stage: "complete", reviewLoops: 1, outcome: completed });
  });
});
