import { describe, expect, it } from "vitest";
import { createPostHogFlagChecker, type PostHogFlags } from "../../src/tasks/feature-flags.ts";
import { AppError } from "../../src/lib/errors.ts";

function fakePostHog(answer: boolean | undefined) {
  const calls: unknown[][] = [];
  const client: PostHogFlags = {
    async isFeatureEnabled(...args) {
      calls.push(args);
      return answer;
    },
  };
  return { client, calls };
}

describe("PostHog flag checker", () => {
  it("asks PostHog for the flag with the team as the organization group", async () => {
    const { client, calls } = fakePostHog(true);
    expect(await createPostHogFlagChecker(client).isEnabled("tasks", { teamId: "team-1", distinctId: "user-9" })).toBe(true);
    expect(calls).toEqual([["tasks", "user-9", { groups: { organization: "team-1" } }]]);
  });

  it("reports a flag that is off as off", async () => {
    expect(await createPostHogFlagChecker(fakePostHog(false).client).isEnabled("tasks", { teamId: "t", distinctId: "u" })).toBe(false);
  });

  it("refuses to guess when PostHog gives no evaluation", async () => {
    const check = createPostHogFlagChecker(fakePostHog(undefined).client).isEnabled("tasks", { teamId: "t", distinctId: "u" });
    await expect(check).rejects.toMatchObject({ kind: "unavailable", code: "flag_unavailable" });
    await expect(check).rejects.toBeInstanceOf(AppError);
  });
});
