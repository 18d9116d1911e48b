// tasks integration add
import { requireOption, takePositionals } from "../args.ts";
import { usageError } from "../cli-error.ts";
import { segment, type Command } from "../command.ts";

interface Integration {
  id: string;
  installation_id: number;
  account: string | null;
  repositories: string[];
  suspended: boolean;
}

function parseInstallationId(value: string): number {
  const id = Number(value);
  if (!/^[1-9]\d*$/.test(value) || !Number.isSafeInteger(id)) {
    throw usageError(`--installation must be a positive integer, the GitHub App installation id (got ${JSON.stringify(value)})`);
  }
  return id;
}

export const integrationAdd: Command = {
  words: ["integration", "add"],
  usage: "integration add --team <team> --installation <id> --repo <org/repo>... [--account <login>]",
  summary: "Link a GitHub App installation to a team",
  options: [
    { name: "team", value: "<team>", description: "team id or name (required)" },
    { name: "installation", value: "<id>", description: "GitHub App installation id (required)" },
    { name: "repo", value: "<org/repo>", description: "a repository the team works on; repeat for more (at least one)" },
    { name: "account", value: "<login>", description: "the organisation or user the App is installed on" },
  ],
  prepare(args) {
    const team = requireOption(args.values.team, "team", "team");
    const installationId = parseInstallationId(requireOption(args.values.installation, "installation", "id"));
    const repositories = args.values.repo ?? [];
    if (repositories.length === 0) throw usageError("missing --repo <org/repo>");
    takePositionals(args, []);
    const body = { installation_id: installationId, account: args.values.account, repositories };
    return async (client) => {
      const integration = await client.request<Integration>("POST", `/api/admin/teams/${segment(team)}/integrations`, body);
      const account = integration.account ? ` (${integration.account})` : "";
      const suspended = integration.suspended ? "\nThe installation is suspended: no task runs on it until it is unsuspended." : "";
      return { json: integration, human: `Linked installation ${integration.installation_id}${account} to team ${team}: ${integration.repositories.join(", ")}${suspended}` };
    };
  },
};
