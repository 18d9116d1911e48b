// tasks flag set
import { requireOption, takePositionals } from "../args.ts";
import { usageError } from "../cli-error.ts";
import { segment, type Command } from "../command.ts";

interface Flag {
  team: string;
  flag: string;
  enabled: boolean;
  source: "local" | "posthog";
}

function parseState(state: string): boolean {
  if (state === "on") return true;
  if (state === "off") return false;
  throw usageError(`the flag state must be on or off (got ${JSON.stringify(state)})`);
}

export const flagSet: Command = {
  words: ["flag", "set"],
  usage: "flag set <flag> on|off --team <team>",
  summary: "Turn a team's feature flag on or off",
  options: [{ name: "team", value: "<team>", description: "team id or name (required)" }],
  prepare(args) {
    const team = requireOption(args.values.team, "team", "team");
    const [flag, state] = takePositionals(args, ["flag", "on|off"]);
    const enabled = parseState(state);
    return async (client) => {
      const result = await client.request<Flag>("PUT", `/api/admin/teams/${segment(team)}/flags/${segment(flag)}`, { enabled });
      const human = `Flag ${result.flag} is ${result.enabled ? "on" : "off"} for team ${result.team}`;
      // With PostHog configured the stored value is kept but PostHog makes the decision.
      const hint = result.source === "posthog" ? `note: this server reads flags from PostHog, so PostHog decides whether ${result.flag} is on` : undefined;
      return { json: result, human, ...(hint ? { hint } : {}) };
    };
  },
};
