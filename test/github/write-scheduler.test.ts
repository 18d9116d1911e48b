// The per-installation write scheduler with a fake request function and a fake clock: the order
// writes go out in, which are never sent, and how many go out a minute.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WritePriority } from "../../src/github/write-hint.ts";
import { createWriteSchedulers, type WriteSchedulerSettings } from "../../src/github/write-scheduler.ts";

/** The fake clock: vitest's timers, handed to the scheduler as its clock and sleep. */
const clock: Pick<WriteSchedulerSettings, "now" | "sleep"> = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

interface Sent {
  name: string;
  installation: number;
  at: number;
}

/** A fake GitHub: records each send; `answers` may make a named write fail first. */
function fakeGitHub(answers: Record<string, unknown[]> = {}) {
  const sent: Sent[] = [];
  const send = (installation: number, name: string) => async () => {
    sent.push({ name, installation, at: Date.now() });
    const failure = answers[name]?.shift();
    if (failure) throw failure;
    return `response to ${name}`;
  };
  return { sent, send, names: () => sent.map((write) => write.name) };
}

const tooManyRequests = (retryAfterSeconds: number) => Object.assign(new Error("Too Many Requests"), { status: 429, response: { headers: { "retry-after": String(retryAfterSeconds) } } });

describe("priorities", () => {
  it("under a backlog, acknowledgements go before publishing and publishing before progress, FIFO within each", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    const write = (name: string, priority: WritePriority, coalesceKey?: string) => schedulers.schedule(1, { priority, send: github.send(1, name), ...(coalesceKey ? { coalesceKey } : {}) });
    const all = [
      // The first write finds the queue idle and goes at once; the rest queue behind it.
      write("progress-1", "progress", "comment:1"),
      write("progress-2", "progress", "check-run:2"),
      write("progress-3", "progress", "check-run:3"),
      write("publish-1", "publish"),
      write("progress-4", "progress", "check-run:4"),
      write("ack-1", "acknowledge"),
      write("publish-2", "publish"),
      write("ack-2", "acknowledge"),
    ];
    await vi.runAllTimersAsync();
    await Promise.all(all);
    expect(github.names()).toEqual(["progress-1", "ack-1", "ack-2", "publish-1", "publish-2", "progress-2", "progress-3", "progress-4"]);
  });

  it("an acknowledgement arriving while the queue waits for its next slot still goes first", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    const progress = [1, 2, 3].map((n) => schedulers.schedule(1, { priority: "progress", coalesceKey: `comment:${n}`, send: github.send(1, `progress-${n}`) }));
    await vi.advanceTimersByTimeAsync(100);
    const ack = schedulers.schedule(1, { priority: "acknowledge", send: github.send(1, "ack") });
    await vi.runAllTimersAsync();
    await Promise.all([...progress, ack]);
    expect(github.names()).toEqual(["progress-1", "ack", "progress-2", "progress-3"]);
  });
});

describe("coalescing: latest state wins", () => {
  it("a queued progress write superseded by a newer one to the same place is never sent, and its caller gets the newer outcome", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    const first = schedulers.schedule(1, { priority: "publish", send: github.send(1, "pull-request") });
    const updates = [1, 2, 3, 4].map((version) => schedulers.schedule(1, { priority: "progress", coalesceKey: "comment:9", send: github.send(1, `comment:9 v${version}`) }));
    const other = schedulers.schedule(1, { priority: "progress", coalesceKey: "check-run:5", send: github.send(1, "check-run:5 v1") });
    await vi.runAllTimersAsync();
    expect(await first).toBe("response to pull-request");
    expect(await Promise.all(updates)).toEqual(Array(4).fill("response to comment:9 v4"));
    expect(await other).toBe("response to check-run:5 v1");
    expect(github.names()).toEqual(["pull-request", "comment:9 v4", "check-run:5 v1"]);
  });

  it("a superseded caller sees the newer write's failure too", async () => {
    const refused = Object.assign(new Error("Unprocessable"), { status: 422 });
    const github = fakeGitHub({ "comment:9 v2": [refused] });
    const schedulers = createWriteSchedulers(clock);
    const first = schedulers.schedule(1, { priority: "publish", send: github.send(1, "pull-request") });
    const older = schedulers.schedule(1, { priority: "progress", coalesceKey: "comment:9", send: github.send(1, "comment:9 v1") });
    const newer = schedulers.schedule(1, { priority: "progress", coalesceKey: "comment:9", send: github.send(1, "comment:9 v2") });
    const settled = Promise.allSettled([older, newer]);
    await vi.runAllTimersAsync();
    await first;
    expect((await settled).map((outcome) => outcome.status === "rejected" && outcome.reason)).toEqual([refused, refused]);
    expect(github.names()).toEqual(["pull-request", "comment:9 v2"]);
  });

  it("a write in flight is not superseded: the newer one is sent after it", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    const writes = [1, 2].map((version) => schedulers.schedule(1, { priority: "progress", coalesceKey: "comment:9", send: github.send(1, `v${version}`) }));
    await vi.runAllTimersAsync();
    expect(await Promise.all(writes)).toEqual(["response to v1", "response to v2"]);
  });
});

describe("GitHub's limits", () => {
  /** True when no 60-second window holds more than `limit` of the send times. */
  const withinRollingMinute = (times: number[], limit: number) => times.every((at, index) => index < limit || at - times[index - limit]! >= 60_000);

  it("under a burst of triggers and a backlog that fills the window, every later acknowledgement finds a free slot", async () => {
    const sent: Array<{ name: string; at: number }> = [];
    const schedulers = createWriteSchedulers(clock);
    const send = (name: string) => async () => void sent.push({ name, at: Date.now() });
    const writes: Promise<unknown>[] = [];
    // 16 triggers at once (👀 and a comment each), and their tasks' backlog of writes.
    for (let n = 0; n < 32; n += 1) writes.push(schedulers.schedule(1, { priority: "acknowledge", send: send(`burst ${n}`) }));
    for (let n = 0; n < 150; n += 1) writes.push(schedulers.schedule(1, { priority: n % 2 ? "publish" : "progress", send: send(`backlog ${n}`) }));
    // Then a trigger every 3 s for two minutes: two acknowledgements each.
    const probes: Array<{ name: string; queuedAt: number }> = [];
    for (let second = 3; second <= 120; second += 3) {
      await vi.advanceTimersByTimeAsync(3_000);
      for (const kind of ["eyes", "comment"]) {
        const name = `probe ${second} ${kind}`;
        probes.push({ name, queuedAt: Date.now() });
        writes.push(schedulers.schedule(1, { priority: "acknowledge", send: send(name) }));
      }
    }
    await vi.runAllTimersAsync();
    await Promise.all(writes);
    const waits = probes.map((probe) => sent.find((write) => write.name === probe.name)!.at - probe.queuedAt);
    expect(Math.max(...waits)).toBe(0);
    // The backlog still went out, within GitHub's limit.
    expect(sent.filter((write) => write.name.startsWith("backlog"))).toHaveLength(150);
    const times = sent.map((write) => write.at).sort((a, b) => a - b);
    expect(times.every((at, index) => index < 80 || at - times[index - 80]! >= 60_000)).toBe(true);
  });

  it("a slow write counts against the minute from its answer, since GitHub counts it on arrival", async () => {
    const sent: number[] = [];
    const schedulers = createWriteSchedulers({ ...clock, minSpacingMs: 0, perMinute: 2, reservedPerMinute: 0, acknowledgeHeadroom: 0 });
    const slow = async () => {
      sent.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    };
    const quick = async () => void sent.push(Date.now());
    const writes = [slow, quick, quick].map((send) => schedulers.schedule(1, { priority: "publish", send }));
    await vi.runAllTimersAsync();
    await Promise.all(writes);
    // The slow one was sent at 0 but answered at 5 s: the third waits for 5 s + 61 s, not 61 s.
    expect(sent).toEqual([0, 5_000, 66_000]);
  });

  it("at most 80 writes a rolling minute per installation, and no slower than that", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers({ ...clock, minSpacingMs: 0, acknowledgeHeadroom: 0 });
    const writes = Array.from({ length: 200 }, (_, n) => schedulers.schedule(1, { priority: "publish", send: github.send(1, `w${n}`) }));
    await vi.runAllTimersAsync();
    await Promise.all(writes);
    const times = github.sent.map((write) => write.at);
    expect(times).toHaveLength(200);
    expect(withinRollingMinute(times, 80)).toBe(true);
    expect(times.filter((at) => at < 60_000)).toHaveLength(80);
    // Counted from each answer plus a second's margin (GitHub counts on arrival), not from the send.
    expect(times[80]).toBe(61_000);
  });

  it("progress leaves 16 of the 80 to acknowledgements: with the window full of progress, a new 👀 goes out at once", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers({ ...clock, minSpacingMs: 0 });
    const progress = Array.from({ length: 100 }, (_, n) => schedulers.schedule(1, { priority: "progress", coalesceKey: `check-run:${n}`, send: github.send(1, `p${n}`) }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(github.sent).toHaveLength(64);
    const ack = schedulers.schedule(1, { priority: "acknowledge", send: github.send(1, "ack") });
    await vi.advanceTimersByTimeAsync(0);
    await ack;
    expect(github.sent.at(-1)).toEqual({ name: "ack", installation: 1, at: 10_000 });
    await vi.runAllTimersAsync();
    await Promise.all(progress);
    expect(withinRollingMinute(github.sent.map((write) => write.at), 80)).toBe(true);
  });

  it("an acknowledgement does not wait out the spacing after the write before it", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    const progress = schedulers.schedule(1, { priority: "progress", coalesceKey: "comment:1", send: github.send(1, "progress") });
    await vi.advanceTimersByTimeAsync(100);
    const ack = schedulers.schedule(1, { priority: "acknowledge", send: github.send(1, "ack") });
    const publish = schedulers.schedule(1, { priority: "publish", send: github.send(1, "publish") });
    await vi.runAllTimersAsync();
    await Promise.all([progress, ack, publish]);
    expect(github.sent).toEqual([
      { name: "progress", installation: 1, at: 0 },
      { name: "ack", installation: 1, at: 100 },
      { name: "publish", installation: 1, at: 850 },
    ]);
  });

  it("by default writes are spaced 750 ms apart, which also keeps them within 80 a minute", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    const writes = Array.from({ length: 100 }, (_, n) => schedulers.schedule(1, { priority: "publish", send: github.send(1, `w${n}`) }));
    await vi.runAllTimersAsync();
    await Promise.all(writes);
    const times = github.sent.map((write) => write.at);
    expect(times.slice(1).every((at, index) => at - times[index]! >= 750)).toBe(true);
    expect(withinRollingMinute(times, 80)).toBe(true);
  });

  it("a 429 pauses that installation's queue for retry-after and retries the write first; another installation keeps going", async () => {
    const github = fakeGitHub({ "a-1": [tooManyRequests(30)] });
    const schedulers = createWriteSchedulers(clock);
    const a = ["a-1", "a-2"].map((name) => schedulers.schedule(1, { priority: "publish", send: github.send(1, name) }));
    const b = ["b-1", "b-2", "b-3"].map((name) => schedulers.schedule(2, { priority: "publish", send: github.send(2, name) }));
    await vi.runAllTimersAsync();
    expect(await Promise.all(a)).toEqual(["response to a-1", "response to a-2"]);
    await Promise.all(b);
    const sends = github.sent.map((write) => `${write.name}@${write.at}`);
    expect(sends.filter((send) => send.startsWith("a-"))).toEqual(["a-1@0", "a-1@30000", "a-2@30750"]);
    expect(sends.filter((send) => send.startsWith("b-"))).toEqual(["b-1@0", "b-2@750", "b-3@1500"]);
  });

  it("a rate limit that never lifts ends in the error after 3 waited retries (never a tight loop)", async () => {
    const github = fakeGitHub({ limited: [1, 2, 3, 4, 5].map(() => tooManyRequests(2)) });
    const schedulers = createWriteSchedulers(clock);
    const outcome = schedulers.schedule(1, { priority: "publish", send: github.send(1, "limited") }).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await outcome).toMatchObject({ status: 429 });
    expect(github.sent.map((write) => write.at)).toEqual([0, 2_000, 4_000, 6_000]);
  });

  it("writes go one at a time, but a write that hangs does not hold the installation's queue for good", async () => {
    const github = fakeGitHub();
    const schedulers = createWriteSchedulers(clock);
    void schedulers.schedule(1, { priority: "publish", send: () => new Promise<never>(() => undefined) });
    const next = schedulers.schedule(1, { priority: "publish", send: github.send(1, "next") });
    await vi.advanceTimersByTimeAsync(29_000);
    expect(github.names()).toEqual([]);
    await vi.runAllTimersAsync();
    expect(await next).toBe("response to next");
    expect(github.sent.map((write) => write.at)).toEqual([30_000]);
  });

  it("a wait longer than a step may block for is not waited: the error goes up at once", async () => {
    const github = fakeGitHub({ limited: [tooManyRequests(3600)] });
    const schedulers = createWriteSchedulers(clock);
    const outcome = schedulers.schedule(1, { priority: "publish", send: github.send(1, "limited") }).catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    expect(await outcome).toMatchObject({ status: 429 });
    expect(github.sent).toHaveLength(1);
  });
});
