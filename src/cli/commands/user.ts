// tasks user add
import { requireOption, takePositionals } from "../args.ts";
import { segment, type Command } from "../command.ts";

interface User {
  id: string;
  external_id: string;
  github_login: string | null;
  email: string | null;
}

export const userAdd: Command = {
  words: ["user", "add"],
  usage: "user add --team <team> <user-id> [--github <login>] [--email <email>]",
  summary: "Add a user to a team",
  options: [
    { name: "team", value: "<team>", description: "team id or name (required)" },
    { name: "github", value: "<login>", description: "their GitHub login, so issues they label become their tasks" },
    { name: "email", value: "<email>", description: "their email address" },
  ],
  prepare(args) {
    const team = requireOption(args.values.team, "team", "team");
    const [userId] = takePositionals(args, ["user-id"]);
    const body = { user_id: userId, github_login: args.values.github, email: args.values.email };
    return async (client) => {
      const user = await client.request<User>("POST", `/api/admin/teams/${segment(team)}/users`, body);
      const extras = [user.github_login && `GitHub ${user.github_login}`, user.email && `email ${user.email}`, `id ${user.id}`].filter(Boolean);
      return { json: user, human: `Added user ${user.external_id} to team ${team} (${extras.join(", ")})` };
    };
  },
};
