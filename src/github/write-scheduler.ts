// GitHub's writes, one queue per installation: acknowledgements first, then a PR and its
// bookkeeping, then progress; a queued progress update superseded by a newer one to the same place
// is never sent; and GitHub's limits kept: at most 80 content-creating requests a rolling minute
// per installation, spaced, and the installation's queue (only its own) paused for as long as
// GitHub asks after a rate-limit answer. Octokit's throttling plugin instead has one queue per
// installation that is first come, first served, so a new trigger's 👀 waited behind every running
// task's progress.
import { rateLimitWaitSeconds } from "./retry-after.ts";
import type { WritePriority } from "./write-hint.ts";

export interface WriteSchedulerSettings {
  /** GitHub's secondary limit: about 80 content-creating requests a minute per installation. */
  perMinute: number;
  /** GitHub asks for about a second between writes; 750 ms keeps 80 a minute reachable. */
  minSpacingMs: number;
  /** Of what acknowledgements leave, what progress may never use: kept for publishing. */
  reservedPerMinute: number;
  /**
   * What the other writes leave free for acknowledgements beyond those of the last minute (up
   * to half the window): a new trigger's 👀 then finds a free slot instead of waiting for the
   * rolling minute to free one, which under a burst of triggers could be most of a minute away.
   */
  acknowledgeHeadroom: number;
  /** Retries of one write after rate-limit answers. */
  maxRateLimitRetries: number;
  /** A longer wait than this is not waited for: the error goes up to the step's own retries. */
  maxWaitSeconds: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface ScheduledWrite<T> {
  priority: WritePriority;
  /** Progress only: a queued write with the same key is superseded by this one. */
  coalesceKey?: string;
  send: () => Promise<T>;
  /** Told when GitHub's rate-limit answer pauses the installation's queue before a retry. */
  onRateLimited?: (waitSeconds: number, retry: number) => void;
}

/** Schedules the writes of every installation of the process. */
export interface WriteSchedulers {
  schedule<T>(installationId: number, write: ScheduledWrite<T>): Promise<T>;
  /** Writes waiting in each installation's queue now (for /metrics; read-only). */
  depths(): Map<number, number>;
}

const defaults: WriteSchedulerSettings = {
  perMinute: 80,
  // GitHub recommends about a second between writes; at 750 ms the 80-a-minute window, not the
  // spacing, is what holds a backlog back, and a lone write is never delayed more than this.
  minSpacingMs: 750,
  reservedPerMinute: 8,
  acknowledgeHeadroom: 8,
  maxRateLimitRetries: 3,
  maxWaitSeconds: 15 * 60,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * How long a write counts against the minute. GitHub counts a write when it arrives, which is
 * somewhere between our sending it and its answer; a write is counted from its answer, plus a
 * second for clocks and transport, so our window never frees a slot before GitHub's does (a
 * write sent the moment ours freed was refused by the stand-in, pausing the queue ~12 s).
 */
const windowMs = 61_000;
/**
 * Writes go one at a time (as GitHub asks), but a write that hangs must not stop the
 * installation's queue for good: after this long the next write may go while it finishes.
 */
const slotHoldMs = 30_000;
const priorities: readonly WritePriority[] = ["acknowledge", "publish", "progress"];

interface Settle {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface SentWrite {
  at: number;
  priority: WritePriority;
}

interface QueuedWrite {
  write: ScheduledWrite<unknown>;
  /** The callers waiting on this write: its own, and those of the writes it superseded. */
  waiting: Settle[];
  rateLimitRetries: number;
}

/** A fresh registry of per-installation queues (the process has one; tests make their own). */
export function createWriteSchedulers(overrides: Partial<WriteSchedulerSettings> = {}): WriteSchedulers {
  const settings: WriteSchedulerSettings = { ...defaults, ...overrides };
  const queues = new Map<number, InstallationQueue>();
  return {
    schedule<T>(installationId: number, write: ScheduledWrite<T>): Promise<T> {
      let queue = queues.get(installationId);
      if (!queue) queues.set(installationId, (queue = new InstallationQueue(settings)));
      return queue.add(write) as Promise<T>;
    },
    depths: () => new Map([...queues].map(([installationId, queue]) => [installationId, queue.waiting()])),
  };
}

class InstallationQueue {
  private readonly lanes = new Map<WritePriority, QueuedWrite[]>(priorities.map((priority) => [priority, []]));
  /** When each write of the last minute was answered (or sent, while it is in flight), oldest first. */
  private readonly sent: SentWrite[] = [];
  private pausedUntil = 0;
  private pumping = false;
  /** Ends the pump's current wait: a write just arrived that may be due sooner. */
  private wake: (() => void) | undefined;

  constructor(private readonly settings: WriteSchedulerSettings) {}

  /** Writes queued and not yet sent. */
  waiting(): number {
    let count = 0;
    for (const lane of this.lanes.values()) count += lane.length;
    return count;
  }

  add(write: ScheduledWrite<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const queued: QueuedWrite = { write, waiting: [{ resolve, reject }], rateLimitRetries: 0 };
      const lane = this.lanes.get(write.priority)!;
      const superseded = write.priority === "progress" && write.coalesceKey !== undefined ? lane.findIndex((other) => other.write.coalesceKey === write.coalesceKey) : -1;
      if (superseded === -1) {
        lane.push(queued);
      } else {
        // Latest state wins, in the older write's place, so an often-updated comment is not starved.
        queued.waiting.unshift(...lane[superseded]!.waiting);
        lane[superseded] = queued;
      }
      this.wake?.();
      if (!this.pumping) void this.pump();
    });
  }

  /** Sends one write at a time, highest priority first, until the queue is empty. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (let lane = this.nextLane(); lane !== undefined; lane = this.nextLane()) {
        const wait = this.readyAt(lane) - this.settings.now();
        if (wait > 0) {
          // One sleep, cut short when a write arrives (an acknowledgement may be due at once):
          // the wait is computed from GitHub's own figures, never polled.
          await Promise.race([this.settings.sleep(wait), new Promise<void>((resolve) => (this.wake = resolve))]);
          this.wake = undefined;
          continue;
        }
        await this.sendHoldingSlot(this.lanes.get(lane)!.shift()!);
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * When a write of `priority` may go. Acknowledgements skip the spacing (they are few, and the
   * first sign of life is what they are for) and may fill the window; the others leave room for
   * as many acknowledgements as the last minute had plus `acknowledgeHeadroom`, and progress
   * leaves `reservedPerMinute` more to publishing. A higher priority is never due later than a
   * lower one.
   */
  private readyAt(priority: WritePriority): number {
    const window = this.sent;
    while (window.length > 0 && window[0]!.at <= this.settings.now() - windowMs) window.shift();
    const last = window.at(-1)?.at;
    const spaced = last === undefined || priority === "acknowledge" ? 0 : last + this.settings.minSpacingMs;
    const limit = priority === "acknowledge" ? this.settings.perMinute : Math.max(1, this.settings.perMinute - this.acknowledgeRoom(window) - (priority === "progress" ? this.settings.reservedPerMinute : 0));
    const windowFree = window.length >= limit ? window[window.length - limit]!.at + windowMs : 0;
    return Math.max(this.pausedUntil, spaced, windowFree);
  }

  /** The slots of the window the other writes leave to acknowledgements. */
  private acknowledgeRoom(window: readonly SentWrite[]): number {
    let acknowledgements = 0;
    for (const write of window) if (write.priority === "acknowledge") acknowledgements += 1;
    return Math.min(Math.floor(this.settings.perMinute / 2), acknowledgements + this.settings.acknowledgeHeadroom);
  }

  /** A write's answer came: it counts from now, keeping the window in order of time. */
  private answered(entry: SentWrite): void {
    entry.at = this.settings.now();
    this.sent.sort((a, b) => a.at - b.at);
  }

  /** The highest priority with a write waiting. */
  private nextLane(): WritePriority | undefined {
    return priorities.find((priority) => this.lanes.get(priority)!.length > 0);
  }

  private async sendHoldingSlot(queued: QueuedWrite): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const released = new Promise<void>((resolve) => (timer = setTimeout(resolve, slotHoldMs)));
    try {
      await Promise.race([this.send(queued), released]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async send(queued: QueuedWrite): Promise<void> {
    const entry: SentWrite = { at: this.settings.now(), priority: queued.write.priority };
    this.sent.push(entry);
    try {
      const result = await queued.write.send().finally(() => this.answered(entry));
      for (const caller of queued.waiting) caller.resolve(result);
    } catch (error) {
      const waitSeconds = rateLimitWaitSeconds(error, this.settings.now());
      if (waitSeconds !== undefined && queued.rateLimitRetries < this.settings.maxRateLimitRetries && waitSeconds <= this.settings.maxWaitSeconds) {
        // GitHub asked this installation to wait: pause its queue (others keep going) and retry
        // this write first once the pause is over.
        queued.rateLimitRetries += 1;
        queued.write.onRateLimited?.(waitSeconds, queued.rateLimitRetries);
        this.pausedUntil = Math.max(this.pausedUntil, this.settings.now() + waitSeconds * 1000);
        this.lanes.get(queued.write.priority)!.unshift(queued);
        // A write that outlasted its slot finds the queue perhaps drained and its pump gone.
        if (!this.pumping) void this.pump();
        return;
      }
      for (const caller of queued.waiting) caller.reject(error);
    }
  }
}
