// What reaches a running run from outside while it executes: cancellation and manual stage
// moves (approvals arrive as moves to the next stage). One mailbox per active run.

export type StopReason = "cancel" | "shutdown";

export class RunMailbox {
  readonly abort = new AbortController();
  private moves: string[] = [];
  private wake: (() => void) | undefined;
  private parkRequested = false;

  get stopReason(): StopReason | undefined {
    return this.abort.signal.aborted ? (this.abort.signal.reason as StopReason) : undefined;
  }

  /**
   * The process is draining: the step in flight may finish (its result is recorded, so it is
   * not repeated), but no next step starts. A run waiting for approval has no step to finish.
   */
  get parking(): boolean {
    return this.parkRequested;
  }

  park(): void {
    this.parkRequested = true;
    this.wake?.();
  }

  stop(reason: StopReason): void {
    if (!this.abort.signal.aborted) this.abort.abort(reason);
    this.wake?.();
  }

  move(stage: string): void {
    this.moves.push(stage);
    this.wake?.();
  }

  takeMove(): string | undefined {
    return this.moves.shift();
  }

  /** Resolves on the next move, park or stop; callers re-check them afterwards. */
  async changed(): Promise<void> {
    if (this.moves.length > 0 || this.abort.signal.aborted || this.parkRequested) return;
    await new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
}
