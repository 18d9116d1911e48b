// tasks apikey create
import { requireOption, takePositionals } from "../args.ts";
import { segment, type Command } from "../command.ts";

interface CreatedApiKey {
  id: string;
  name: string;
  key: string;
}

export const apikeyCreate: Command = {
  words: ["apikey", "create"],
  usage: "apikey create --team <team> [--name <name>]",
  summary: "Create a team API key for the task API",
  options: [
    { name: "team", value: "<team>", description: "team id or name (required)" },
    { name: "name", value: "<name>", description: 'what the key is for (default "default")' },
  ],
  prepare(args) {
    const team = requireOption(args.values.team, "team", "team");
    takePositionals(args, []);
    // Without a name the server applies its own default.
    const body = args.values.name === undefined ? {} : { name: args.values.name };
    return async (client) => {
      const key = await client.request<CreatedApiKey>("POST", `/api/admin/teams/${segment(team)}/api-keys`, body);
      const human = [
        `Created API key "${key.name}" for team ${team} (id ${key.id}):`,
        "",
        `  ${key.key}`,
        "",
        "Store it now: it cannot be shown again (the server keeps only its hash).",
      ].join("\n");
      return { json: key, human };
    };
  },
};
