// The worker-side wrapper, in Temporal's mock activity context (no server needed): heartbeats
// while long steps run, cancellation through them, and permanent failures made non-retryable.
import { ApplicationFailure, CancelledFailure } from "@temporalio/common";
import { MockActivityEnvironment } from "@temporalio/testing";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors.ts";
import { permanentFailureType, type PipelineActivities } from "../../src/pipeline/activities.ts";
import type { RunRef } from "../../src/pipeline/types.ts";
import { isPermanentFailure, wrapActivities } from "../../src/temporal/activities.ts";

const run: RunRef = { taskId: "t1", runId: "r1", attempt: 1 };
const agentArgs = { ...run, stage: "code", stageName: "Code", role: "coder" as const, iteration: 0, reviewNotesRef: null };
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const mockEnvironment = () => new MockActivityEnvironment(undefined, { logger: silent });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fakeActivities(overrides: Partial<PipelineActivities> = {}): PipelineActivities {
  return {
    loadRun: async () => ({ ...run, stages: [], startStage: "plan", kind: "initial", maxReviewLoops: 2 }),
    checkFlag: async () => ({ enabled: true }),
    enterStage: async () => undefined,
    runAgent: async () => ({ verdict: null, outputRef: "ref:summary" }),
    markWaiting: async () => undefined,
    publish: async () => ({ prUrl: null, note: "no changes" }),
    finish: async () => undefined,
    cleanup: async () => undefined,
    ...overrides,
  };
}

class PermanentFailure extends Error {
  readonly permanent = true;
}

describe("wrapActivities: heartbeats", () => {
  it("heartbeats at once and then periodically while the agent runs, with progress", async () => {
    const env = mockEnvironment();
    const beats: unknown[] = [];
    env.on("heartbeat", (details: unknown) => beats.push(details));
    const activities = wrapActivities(fakeActivities({ runAgent: async () => (await sleep(130), { verdict: null, outputRef: "ref:summary" }) }), { heartbeatIntervalMs: 25 });

    const output = await env.run(activities.runAgent, agentArgs);

    expect(output).toEqual({ verdict: null, outputRef: "ref:summary" });
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats[0]).toEqual({ step: "runAgent", stage: "code", role: "coder", iteration: 0, elapsedSeconds: 0 });
    // Heartbeats stop with the step.
    const count = beats.length;
    await sleep(80);
    expect(beats.length).toBe(count);
  });

  it("heartbeats while publishing", async () => {
    const env = mockEnvironment();
    const beats: unknown[] = [];
    env.on("heartbeat", (details: unknown) => beats.push(details));
    await env.run(wrapActivities(fakeActivities()).publish, { ...run, stage: "complete", stageName: "Complete", reviewNotesRef: null });
    expect(beats).toEqual([{ step: "publish", stage: "complete", elapsedSeconds: 0 }]);
  });

  it("does not heartbeat bookkeeping steps (their profile has no heartbeat timeout)", async () => {
    const env = mockEnvironment();
    const beats: unknown[] = [];
    env.on("heartbeat", (details: unknown) => beats.push(details));
    await env.run(wrapActivities(fakeActivities()).enterStage, { ...run, stage: "plan", stageName: "Plan" });
    expect(beats).toEqual([]);
  });
});

describe("wrapActivities: cancellation", () => {
  it("hands the step the activity's abort signal and reports a cancellation at once", async () => {
    const env = mockEnvironment();
    let seen: AbortSignal | undefined;
    const activities = wrapActivities(
      fakeActivities({
        // A step that ignores its signal: the activity must not wait for it.
        runAgent: async (_args, signal) => {
          seen = signal;
          await sleep(500);
          return { verdict: null, outputRef: null };
        },
      }),
      { heartbeatIntervalMs: 10 },
    );

    const running = env.run(activities.runAgent, agentArgs);
    await sleep(30);
    env.cancel();

    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(seen?.aborted).toBe(true);
  });
});

describe("wrapActivities: failures", () => {
  const failWith = (error: unknown) => wrapActivities(fakeActivities({ enterStage: async () => Promise.reject(error) })).enterStage;

  it.each([
    ["an error flagged permanent", new PermanentFailure("no such repository")],
    ["an error named as the permanent type", Object.assign(new Error("no such repository"), { name: permanentFailureType })],
    ["an error typed as the permanent type", Object.assign(new Error("no such repository"), { type: permanentFailureType })],
    ["a permanent AppError", new AppError("not_found", "task_not_found", "no such repository")],
  ])("rethrows %s as a non-retryable ApplicationFailure", async (_name, error) => {
    const rejection = await mockEnvironment().run(failWith(error), { ...run, stage: "plan", stageName: "Plan" }).catch((caught: unknown) => caught);
    expect(rejection).toBeInstanceOf(ApplicationFailure);
    expect(rejection).toMatchObject({ message: "no such repository", type: permanentFailureType, nonRetryable: true });
  });

  it("also for the long steps", async () => {
    const activities = wrapActivities(fakeActivities({ runAgent: async () => Promise.reject(new PermanentFailure("the agent exited with code 2")) }));
    await expect(mockEnvironment().run(activities.runAgent, agentArgs)).rejects.toMatchObject({
      message: "the agent exited with code 2",
      type: permanentFailureType,
      nonRetryable: true,
    });
  });

  it.each([
    ["a plain error", new Error("connection reset")],
    ["a retryable AppError", new AppError("unavailable", "flag_unavailable", "PostHog gave no evaluation")],
    ["an ApplicationFailure the step made itself", ApplicationFailure.retryable("try later", "Busy")],
  ])("leaves %s as it is, for Temporal to retry", async (_name, error) => {
    await expect(mockEnvironment().run(failWith(error), { ...run, stage: "plan", stageName: "Plan" })).rejects.toBe(error);
  });

  it("classifies errors", () => {
    expect(isPermanentFailure(new PermanentFailure("x"))).toBe(true);
    expect(isPermanentFailure(ApplicationFailure.nonRetryable("x"))).toBe(true);
    expect(isPermanentFailure(new AppError("forbidden", "flag_off", "x"))).toBe(true);
    expect(isPermanentFailure(new AppError("unavailable", "down", "x"))).toBe(false);
    expect(isPermanentFailure(new Error("x"))).toBe(false);
    expect(isPermanentFailure("x")).toBe(false);
  });
});
