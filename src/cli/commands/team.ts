// tasks team create | list
import { takePositionals } from "../args.ts";
import type { Command } from "../command.ts";
import { table } from "../output.ts";

interface Team {
  id: string;
  name: string;
  prefix: string;
}

export const teamCreate: Command = {
  words: ["team", "create"],
  usage: "team create <name>",
  summary: "Create a team (with the default workflow)",
  options: [],
  prepare(args) {
    const [name] = takePositionals(args, ["name"]);
    return async (client) => {
      const team = await client.request<Team>("POST", "/api/admin/teams", { name });
      return { json: team, human: `Created team ${team.name} (prefix ${team.prefix}, id ${team.id})` };
    };
  },
};

export const teamList: Command = {
  words: ["team", "list"],
  usage: "team list",
  summary: "List the teams",
  options: [],
  prepare(args) {
    takePositionals(args, []);
    return async (client) => {
      const { teams } = await client.request<{ teams: Team[] }>("GET", "/api/admin/teams");
      const human = teams.length === 0 ? "No teams yet. Create one: tasks team create <name>" : table(["NAME", "PREFIX", "ID"], teams.map((team) => [team.name, team.prefix, team.id]));
      return { json: { teams }, human };
    };
  },
};
