// A failure retrying cannot fix (bad configuration, a refused change, an agent that exited
// non-zero): the run fails with this message as its readable reason. Shared by every layer
// that does work for a stage, so it lives here rather than in any one of them.
/** A failure retrying cannot fix; the run fails with this message as its readable reason. */
export class PermanentFailure extends Error {
  readonly permanent = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentTaskFailure";
  }
}

export const isPermanentFailure = (error: unknown): error is PermanentFailure =>
  error instanceof Error && (error as { permanent?: unknown }).permanent === true;
