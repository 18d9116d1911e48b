// An in-memory PipelineActivities for workflow tests: the default stages, every call recorded,
// and hooks to hold an agent until the test lets it go.
import type { AgentArgs, AgentOutput, PipelineActivities } from "../../src/pipeline/activities.ts";
import type { PipelineInput, StageSpec } from "../../src/pipeline/types.ts";

export const prUrl = "https://github.com/acme/app/pull/7";

export const defaultStages: StageSpec[] = [
  { key: "plan", name: "Plan", agentRole: "planner", requiresApproval: false, opensPullRequest: false },
  { key: "code", name: "Code", agentRole: "coder", requiresApproval: false, opensPullRequest: false },
  { key: "review", name: "Review", agentRole: "reviewer", requiresApproval: false, opensPullRequest: false },
  { key: "complete", name: "Complete", agentRole: null, requiresApproval: false, opensPullRequest: true },
];

export interface Call {
  name: keyof PipelineActivities;
  args: Record<string, unknown>;
}

export interface FakeOptions {
  stages?: StageSpec[];
  /** Replaces the default agent (which succeeds at once, reviewers approving). */
  agent?: (args: AgentArgs, signal: AbortSignal | undefined) => Promise<AgentOutput>;
}

export interface FakeActivities {
  activities: PipelineActivities;
  calls: Call[];
  /** The calls as `name` or `name:stage`, e.g. `runAgent:code`, and `finish:<status>`. */
  steps(): string[];
  /** Resolves with the first call (past or future) named so whose arguments match. */
  waitForCall(name: keyof PipelineActivities, match?: (args: Record<string, unknown>) => boolean): Promise<Call>;
}

export function createFakeActivities(options: FakeOptions = {}): FakeActivities {
  const stages = options.stages ?? defaultStages;
  const calls: Call[] = [];
  const listeners = new Set<() => void>();
  const record = (name: keyof PipelineActivities, args: object) => {
    calls.push({ name, args: { ...args } });
    for (const listener of listeners) listener();
  };
  const defaultAgent = async (args: AgentArgs): Promise<AgentOutput> => ({
    verdict: args.role === "reviewer" ? "approve" : null,
    outputRef: `out:${args.stage}:${args.iteration}`,
  });

  const activities: PipelineActivities = {
    async loadRun(run) {
      record("loadRun", run);
      const input: PipelineInput = { ...run, stages, startStage: stages[0]!.key, kind: "initial", maxReviewLoops: 2 };
      return input;
    },
    async checkFlag(run) {
      record("checkFlag", run);
      return { enabled: true };
    },
    async enterStage(args) {
      record("enterStage", args);
    },
    async runAgent(args, signal) {
      record("runAgent", args);
      return (options.agent ?? defaultAgent)(args, signal);
    },
    async markWaiting(args) {
      record("markWaiting", args);
    },
    async publish(args) {
      record("publish", args);
      return { prUrl, note: null };
    },
    async finish(args) {
      record("finish", args);
    },
    async cleanup(run) {
      record("cleanup", run);
    },
  };

  return {
    activities,
    calls,
    steps: () =>
      calls.map(({ name, args }) => {
        if (name === "finish") return `finish:${(args.outcome as { status: string }).status}`;
        return typeof args.stage === "string" ? `${name}:${args.stage}` : name;
      }),
    waitForCall(name, match = () => true) {
      const find = () => calls.find((call) => call.name === name && match(call.args));
      return new Promise((resolve) => {
        const found = find();
        if (found) return resolve(found);
        const listener = () => {
          const call = find();
          if (!call) return;
          listeners.delete(listener);
          resolve(call);
        };
        listeners.add(listener);
      });
    },
  };
}

/** A promise the test resolves when it chooses: an agent that is still working. */
export function createGate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** An agent that works until it is aborted, as a real one watching its signal does. */
export function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
  });
}
