// Stage work that does nothing and answers at once, so a run costs only what its engine and the
// real activities' bookkeeping cost: the reviewer approves, publishing opens no pull request.
import type { StageWork } from "../src/stage-work/stage-work.ts";

export function createInstantStageWork(): StageWork {
  return {
    runAgent: async (request) => ({ verdict: request.role === "reviewer" ? "approve" : null, outputRef: null }),
    publish: async () => ({ prUrl: null, note: "bench: nothing to publish" }),
    cleanup: async () => undefined,
  };
}
