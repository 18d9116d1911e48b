// Operator-side administration of teams and their members, integrations and flags.
import { AppError } from "../lib/errors.ts";
import type { Team } from "../generated/prisma/client.ts";
import { isUniqueViolation, type Db } from "../db/client.ts";
import { findIntegrationByInstallation, insertIntegration, updateIntegration } from "../db/integrations.ts";
import { findTeamById, findTeamByName, insertTeam, listTeamsOldestFirst } from "../db/teams.ts";
import { ensureTeamMembership, findUserByExternalId, insertUser, updateUserContact } from "../db/users.ts";
import { createDefaultWorkflow } from "./default-workflow.ts";
import { parseRepositoryName, repositoryKey } from "./repository-name.ts";
import { teamPrefix } from "./team-prefix.ts";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => uuidPattern.test(value);

export interface TeamView {
  id: string;
  name: string;
  prefix: string;
}

const teamView = (team: Team): TeamView => ({ id: team.id, name: team.name, prefix: team.prefix });

/** Creates a team with its default workflow, in one transaction. */
export async function createTeam(db: Db, name: string): Promise<TeamView> {
  try {
    const team = await db.$transaction(async (tx) => {
      const created = await insertTeam(tx, { name, prefix: teamPrefix(name) });
      await createDefaultWorkflow(tx, created.id);
      return created;
    });
    return teamView(team);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("conflict", "team_exists", `a team named ${JSON.stringify(name)} already exists`, { field: "name" });
    throw error;
  }
}

/** Finds a team by id or by name. */
export async function findTeam(db: Db, ref: string): Promise<Team> {
  const team = isUuid(ref) ? await findTeamById(db, ref) : await findTeamByName(db, ref);
  if (!team) throw new AppError("not_found", "team_not_found", `no team ${JSON.stringify(ref)}`, { field: "team" });
  return team;
}

export async function listTeams(db: Db): Promise<TeamView[]> {
  return (await listTeamsOldestFirst(db)).map(teamView);
}

export interface AddUserInput {
  externalId: string;
  githubLogin?: string | undefined;
  email?: string | undefined;
}

export interface UserView {
  id: string;
  external_id: string;
  github_login: string | null;
  email: string | null;
}

/** Adds a user to a team, creating the user on first sight; adding twice is harmless. */
export async function addTeamMember(db: Db, teamId: string, input: AddUserInput): Promise<UserView> {
  try {
    const user = await db.$transaction(async (tx) => {
      const existing = await findUserByExternalId(tx, input.externalId);
      const user = existing
        ? await updateUserContact(tx, existing.id, { githubLogin: input.githubLogin ?? existing.githubLogin, email: input.email ?? existing.email })
        : await insertUser(tx, { externalId: input.externalId, githubLogin: input.githubLogin ?? null, email: input.email ?? null });
      await ensureTeamMembership(tx, teamId, user.id);
      return user;
    });
    return { id: user.id, external_id: user.externalId, github_login: user.githubLogin, email: user.email };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError("conflict", "github_login_taken", `GitHub login ${JSON.stringify(input.githubLogin)} belongs to another user`, { field: "github_login" });
    }
    throw error;
  }
}

export interface IntegrationInput {
  installationId: number;
  account?: string | undefined;
  repositories: string[];
}

export interface IntegrationView {
  id: string;
  installation_id: number;
  account: string | null;
  repositories: string[];
  suspended: boolean;
}

/**
 * Links a GitHub App installation to a team, adding repositories to it. An installation
 * belongs to one team: linking it to a second team is a conflict.
 */
export async function addIntegration(db: Db, teamId: string, input: IntegrationInput): Promise<IntegrationView> {
  const repositories = input.repositories.map((name, index) => repositoryKey(parseRepositoryName(name, `repositories[${index}]`)));
  const row = await db.$transaction(async (tx) => {
    const existing = await findIntegrationByInstallation(tx, input.installationId);
    if (existing && existing.teamId !== teamId) {
      throw new AppError("conflict", "installation_taken", `installation ${input.installationId} is linked to another team`, { field: "installation_id" });
    }
    if (existing) {
      const merged = [...new Set([...existing.repositories, ...repositories])].sort();
      return updateIntegration(tx, existing.id, { repositories: merged, account: input.account ?? existing.account });
    }
    return insertIntegration(tx, { teamId, installationId: input.installationId, account: input.account ?? null, repositories: [...new Set(repositories)].sort() });
  });
  return {
    id: row.id,
    installation_id: Number(row.installationId),
    account: row.account,
    repositories: row.repositories,
    suspended: row.suspended,
  };
}
