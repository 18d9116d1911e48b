// The one decision between permanent and transient failures, which the embedded runner's
// retries, the Temporal activity wrappers and the API all take from lib/errors.ts.
import { describe, expect, it } from "vitest";
import { AppError, errorMessage, isPermanent, isRetryable, PermanentFailure, permanentFailureName } from "../../src/lib/errors.ts";
import { permanentFailureType } from "../../src/pipeline/activities.ts";

describe("isRetryable", () => {
  it.each([
    ["a plain error (a network blip, a bug)", new Error("connection reset")],
    ["an AppError of a kind that may pass", new AppError("unavailable", "flag_unavailable", "PostHog gave no evaluation")],
    ["something thrown that is not an error", "boom"],
  ])("says %s may pass", (_name, error) => {
    expect(isRetryable(error)).toBe(true);
    expect(isPermanent(error)).toBe(false);
  });

  it.each([
    ["a PermanentFailure", new PermanentFailure("the agent exited with code 2")],
    ["an AppError of a permanent kind", new AppError("forbidden", "flag_off", "the tasks flag is off")],
    ["an error flagged permanent", Object.assign(new Error("stage code is not in the workflow"), { permanent: true })],
    ["an error named as the permanent type", Object.assign(new Error("no such repository"), { name: permanentFailureName })],
    ["an error typed as the permanent type", Object.assign(new Error("no such repository"), { type: permanentFailureName })],
  ])("says %s will not", (_name, error) => {
    expect(isRetryable(error)).toBe(false);
    expect(isPermanent(error)).toBe(true);
  });
});

describe("PermanentFailure", () => {
  it("is an AppError of the `failed` kind, named as Temporal's permanent failure type", () => {
    const failure = new PermanentFailure("the diff contains a secret", { cause: new Error("rule aws-key") });
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ kind: "failed", code: "permanent_failure", name: permanentFailureType, message: "the diff contains a secret", permanent: true });
    expect(failure.retryable).toBe(false);
    expect(permanentFailureName).toBe(permanentFailureType);
  });
});

describe("errorMessage", () => {
  it("reads an error's message, and anything else as text", () => {
    expect(errorMessage(new PermanentFailure("no changes to publish"))).toBe("no changes to publish");
    expect(errorMessage("boom")).toBe("boom");
  });
});
