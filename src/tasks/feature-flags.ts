// Feature flags. The `tasks` flag gates task creation and every run (SEED.md). The local store
// (FeatureFlag rows) is the default: flags absent from it take their default value. With
// POSTHOG_API_KEY set, PostHog decides, with the team as the `organization` group.
import { AppError } from "../lib/errors.ts";
import type { Db } from "../db/client.ts";
import { findFeatureFlag, upsertFeatureFlag } from "../db/feature-flags.ts";

export const tasksFlag = "tasks";

/** Values of flags no one has set. `tasks` is on until a team turns it off. */
const defaults: Record<string, boolean> = { [tasksFlag]: true };

export interface FlagSubject {
  teamId: string;
  /** The user on whose behalf the check is made (PostHog's distinct id). */
  distinctId: string;
}

export interface FlagChecker {
  readonly source: "local" | "posthog";
  isEnabled(flag: string, subject: FlagSubject): Promise<boolean>;
}

export function createLocalFlagChecker(db: Db): FlagChecker {
  return {
    source: "local",
    async isEnabled(flag, { teamId }) {
      return (await findFeatureFlag(db, teamId, flag)) ?? defaults[flag] ?? false;
    },
  };
}

/** The part of posthog-node's client this module uses (so tests can pass a fake). */
export interface PostHogFlags {
  isFeatureEnabled(
    key: string,
    distinctId: string,
    options?: { groups?: Record<string, string> },
  ): Promise<boolean | undefined>;
}

export function createPostHogFlagChecker(client: PostHogFlags): FlagChecker {
  return {
    source: "posthog",
    async isEnabled(flag, { teamId, distinctId }) {
      const enabled = await client.isFeatureEnabled(flag, distinctId, { groups: { organization: teamId } });
      // undefined means PostHog gave no evaluation (unreachable, or no such flag): refusing as
      // "flag off" would mislead, and proceeding would bypass the gate, so ask to retry.
      if (enabled === undefined) {
        throw new AppError("unavailable", "flag_unavailable", `PostHog gave no evaluation of the "${flag}" flag; try again later`);
      }
      return enabled;
    },
  };
}

export async function setLocalFlag(db: Db, teamId: string, flag: string, enabled: boolean): Promise<void> {
  await upsertFeatureFlag(db, teamId, flag, enabled);
}
