// The workflow's activity profiles with a dead worker noticed in seconds rather than minutes:
// the agent profile's heartbeat timeout just above the activities' 20 s heartbeat interval
// (src/temporal/activities.ts), and a quick first retry. Bundled into workflow code in place of
// src/temporal/activity-profiles.ts by short-heartbeats.ts; everything else is the real profile.
import { activityProfiles as real } from "../../src/temporal/activity-profiles.ts";

export { nonRetryableErrorTypes } from "../../src/temporal/activity-profiles.ts";

export const activityProfiles = {
  ...real,
  agent: { ...real.agent, heartbeatTimeout: "30 seconds", retry: { ...real.agent.retry, initialInterval: "1 second" } },
} satisfies typeof real;
