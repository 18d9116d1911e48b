// A scripted stand-in for the sandbox/agent/PR work, recording what each stage was asked to do.
import type { AgentRequest, PublishRequest, StageWork } from "../../src/stage-work/stage-work.ts";
import { PermanentFailure } from "../../src/lib/errors.ts";
import type { AgentOutput, PublishOutput } from "../../src/pipeline/activities.ts";
import type { RunRef } from "../../src/pipeline/types.ts";

export interface FakeStageWork extends StageWork {
  readonly agentCalls: AgentRequest[];
  readonly publishCalls: PublishRequest[];
  readonly cleanups: RunRef[];
  /** Agents currently inside runAgent. */
  running: number;
  maxRunning: number;
}

export interface FakeScript {
  agent?: (request: AgentRequest, signal: AbortSignal) => Promise<AgentOutput | "fail"> | AgentOutput | "fail";
  publish?: (request: PublishRequest) => Promise<PublishOutput> | PublishOutput;
}

export function createFakeStageWork(script: FakeScript = {}): FakeStageWork {
  const fake: FakeStageWork = {
    agentCalls: [],
    publishCalls: [],
    cleanups: [],
    running: 0,
    maxRunning: 0,
    async runAgent(request, signal) {
      fake.agentCalls.push(request);
      fake.running += 1;
      fake.maxRunning = Math.max(fake.maxRunning, fake.running);
      try {
        const output = script.agent ? await script.agent(request, signal) : { verdict: request.role === "reviewer" ? "approve" : null, outputRef: `${request.stage}-${request.iteration}` };
        if (output === "fail") throw new PermanentFailure(`the ${request.role} exited with status 1`);
        return output as AgentOutput;
      } finally {
        fake.running -= 1;
      }
    },
    async publish(request) {
      fake.publishCalls.push(request);
      return script.publish ? script.publish(request) : { prUrl: `https://github.com/posthog/posthog/pull/${fake.publishCalls.length}`, note: null };
    },
    async cleanup(run) {
      fake.cleanups.push(run);
    },
  };
  return fake;
}

/** Resolves when aborted, rejecting like a killed process would. */
export const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(new Error("aborted"));
    signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
  });
