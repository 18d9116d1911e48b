import { describe, expect, it } from "vitest";
import { permanentFailureType } from "../../src/pipeline/activities.ts";
import { activityProfiles } from "../../src/temporal/activity-profiles.ts";

describe("activity profiles", () => {
  it("never retries a permanent failure, in any profile", () => {
    for (const profile of Object.values(activityProfiles)) {
      expect(profile.retry.nonRetryableErrorTypes).toContain(permanentFailureType);
      expect(profile.retry.nonRetryableErrorTypes).toEqual(expect.arrayContaining(["ValidationError", "PermissionError", "NotFoundError"]));
    }
  });

  it("keeps bookkeeping quick and lets agents run long, heartbeating", () => {
    expect(activityProfiles.quick).toMatchObject({ startToCloseTimeout: "30 seconds", retry: { maximumAttempts: 5 } });
    expect(activityProfiles.quick).not.toHaveProperty("heartbeatTimeout");
    expect(activityProfiles.agent).toMatchObject({ startToCloseTimeout: "2 hours", heartbeatTimeout: "2 minutes", retry: { maximumAttempts: 3 } });
  });
});
