// What operators tell a running workflow (the `approve` and `moveStage` signals), held until the
// pipeline can take it. Signals arrive whenever they are sent; the machine takes a decision only
// while it waits for approval, and a move between steps. Imported by workflow code: pure.
import { applyResult } from "../pipeline/machine.ts";
import type { PipelineState, StepResult } from "../pipeline/types.ts";

export interface RunInbox {
  approve(): void;
  move(stage: string): void;
  /** Starts a wait for approval: an approval sent before it (a double click at an earlier stage) does not count. */
  openApprovalWait(): void;
  hasDecision(): boolean;
  /** The decision that ends the wait — a move, or else the approval — taken out of the inbox. */
  takeDecision(): StepResult | undefined;
  /** Feeds the moves that arrived while a step ran to the machine, once that step is done. */
  applyMoves(state: PipelineState): PipelineState;
}

export function createRunInbox(): RunInbox {
  let approved = false;
  const moves: string[] = [];
  return {
    approve() {
      approved = true;
    },
    move(stage) {
      moves.push(stage);
    },
    openApprovalWait() {
      approved = false;
    },
    hasDecision: () => approved || moves.length > 0,
    takeDecision() {
      const stage = moves.shift();
      if (stage !== undefined) return { type: "moved", stage };
      if (!approved) return undefined;
      approved = false;
      return { type: "approved" };
    },
    applyMoves(state) {
      let next = state;
      for (let stage = moves.shift(); stage !== undefined; stage = moves.shift()) {
        // A run that has ended has nowhere to move; the machine refuses results once done.
        if (next.phase !== "done") next = applyResult(next, { type: "moved", stage });
      }
      return next;
    },
  };
}
