// The work a stage does outside the database: run an agent in a sandbox, publish a pull
// request, release the sandbox. The sandbox/agent/PR implementation plugs in here; the
// pipeline and both engines only see this port.
import { PermanentFailure } from "../lib/errors.ts";
import type { AgentOutput, PublishOutput } from "../pipeline/activities.ts";
import type { AgentRole, RunRef } from "../pipeline/types.ts";

export interface AgentRequest extends RunRef {
  stage: string;
  /** The stage's display name, as the run's pipeline input has it. */
  stageName: string;
  role: AgentRole;
  /** 0 on the first pass, then 1, 2 … after each review that requested changes. */
  iteration: number;
  reviewNotesRef: string | null;
}

export interface PublishRequest extends RunRef {
  stage: string;
  stageName: string;
  reviewNotesRef: string | null;
}

export interface StageWork {
  runAgent(request: AgentRequest, signal: AbortSignal): Promise<AgentOutput>;
  publish(request: PublishRequest, signal: AbortSignal): Promise<PublishOutput>;
  cleanup(run: RunRef): Promise<void>;
  /**
   * Resolves once the stage progress this process reported for the run (check runs) has reached
   * the host. Agent stages do not wait for it; a run's end does, so what it records is on GitHub.
   */
  progressSettled?(run: Pick<RunRef, "runId">): Promise<void>;
}

/**
 * What runs until the GitHub App is configured: every agent stage fails at once with the reason
 * the composition root gives (what is missing and how to set it, see tasks/setup-status.ts),
 * rather than a task that sits in `running` forever.
 */
export function createUnavailableStageWork(reason: string): StageWork {
  const refuse = async (): Promise<never> => {
    throw new PermanentFailure(`this server cannot run agents yet. ${reason}`);
  };
  return { runAgent: refuse, publish: refuse, cleanup: async () => undefined };
}
