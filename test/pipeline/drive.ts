// Drives the stage machine the way an engine does, with scripted results instead of activities,
// so a test reads as "this script in, these commands out".
import { applyResult, nextCommand, startPipeline } from "../../src/pipeline/machine.ts";
import type { Command, PipelineInput, PipelineState, StepResult } from "../../src/pipeline/types.ts";

type CommandType = Command["type"];
type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;

/** A fixed result, or one computed from the command (and the state it was issued in). */
export type Reply<T extends CommandType> = StepResult | ((command: CommandOf<T>, state: PipelineState) => StepResult);

/** Replies per command type (unlisted types get {@link defaultReply}), or one function for every command. */
export type Script = { [T in CommandType]?: Reply<T> } | ((command: Command, state: PipelineState) => StepResult);

export const prUrl = "https://github.com/acme/app/pull/7";

/** The output reference the default reply gives an agent: tests assert where it travels. */
export const outputRef = (stage: string, iteration: number): string => `out:${stage}:${iteration}`;

/** Everything goes well: the flag is on, agents succeed (reviewers approve), the PR opens. */
export function defaultReply(command: Command): StepResult {
  switch (command.type) {
    case "checkFlag":
      return { type: "flagChecked", enabled: true };
    case "enterStage":
      return { type: "stageEntered" };
    case "runAgent":
      return {
        type: "agentSucceeded",
        verdict: command.role === "reviewer" ? "approve" : null,
        outputRef: outputRef(command.stage, command.iteration),
      };
    case "waitForApproval":
      return { type: "approved" };
    case "publish":
      return { type: "published", prUrl, note: null };
    case "finish":
      return { type: "finished" };
  }
}

/** Replies with the given results in turn, then falls back to the default reply. */
export function inOrder(...results: StepResult[]): (command: Command) => StepResult {
  let next = 0;
  return (command) => results[next++] ?? defaultReply(command);
}

function replyTo(script: Script, command: Command, state: PipelineState): StepResult {
  if (typeof script === "function") return script(command, state);
  const reply = script[command.type] as Reply<CommandType> | undefined;
  if (reply === undefined) return defaultReply(command);
  return typeof reply === "function" ? (reply as (command: Command, state: PipelineState) => StepResult)(command, state) : reply;
}

export interface DriveResult {
  /** Every command issued, in order, ending with `finish`. */
  commands: Command[];
  /** The state the run started from, then the state after each result. */
  states: PipelineState[];
  /** The final state (phase "done"). */
  state: PipelineState;
}

/** Runs the pipeline to the end; throws if it has not finished after `maxSteps` commands. */
export function drive(start: PipelineInput | PipelineState, script: Script = {}, maxSteps = 100): DriveResult {
  let state = "phase" in start ? start : startPipeline(start);
  const commands: Command[] = [];
  const states = [state];
  for (let command = nextCommand(state); command !== undefined; command = nextCommand(state)) {
    if (commands.length >= maxSteps) throw new Error(`the pipeline did not finish within ${maxSteps} commands`);
    commands.push(command);
    state = applyResult(state, replyTo(script, command, state));
    states.push(state);
  }
  return { commands, states, state };
}
