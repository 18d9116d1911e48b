// Work that brings one thing up to date (a tracking comment, a check run), run one at a time per
// key with only the latest request waiting behind the one in flight: a request that a newer one
// replaces before it starts is never run, and its caller is answered when the newer one is done.
// So a caller that must not wait on GitHub's write budget can fire and forget, and one that must
// see the final state (the end of a run) awaits its own request, which runs after the rest.

interface Waiting {
  work: () => Promise<void>;
  settle: Array<() => void>;
}

interface Slot {
  running: Promise<void>;
  next?: Waiting;
}

export class LatestWins {
  private readonly slots = new Map<string, Slot>();

  /**
   * Runs `work` for `key` after the work in flight for it, replacing any that waits. Resolves
   * once the work that covers this request has run; never rejects (a failure is the work's to
   * report, as it would be for a caller that did not wait).
   */
  submit(key: string, work: () => Promise<void>): Promise<void> {
    const slot = this.slots.get(key);
    if (!slot) return this.start(key, work, []);
    return new Promise<void>((resolve) => {
      slot.next = { work, settle: [...(slot.next?.settle ?? []), resolve] };
    });
  }

  /** Resolves once nothing is in flight or waiting for any key that starts with `prefix`. */
  async settled(prefix = ""): Promise<void> {
    for (;;) {
      const pending = [...this.slots].filter(([key]) => key.startsWith(prefix)).map(([, slot]) => slot.running);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  private start(key: string, work: () => Promise<void>, settle: Array<() => void>): Promise<void> {
    const running = (async () => {
      try {
        await work();
      } catch {
        // The work reports its own failures; one failure must not stop the key's later updates.
      }
      for (const done of settle) done();
      const slot = this.slots.get(key)!;
      const next = slot.next;
      if (next) void this.start(key, next.work, next.settle);
      else this.slots.delete(key);
    })();
    const slot = this.slots.get(key);
    if (slot) {
      slot.running = running;
      delete slot.next;
    } else {
      this.slots.set(key, { running });
    }
    return running;
  }
}
