// GitHub App installations linked to teams (github_integrations), with the repositories each covers.
import type { GitHubIntegration } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export async function findIntegrationByInstallation(db: Tx, installationId: number): Promise<GitHubIntegration | null> {
  return db.gitHubIntegration.findUnique({ where: { installationId: BigInt(installationId) } });
}

/** The team's oldest active integration covering the repository (`org/repo`, lower case). */
export async function findTeamIntegrationCovering(db: Tx, teamId: string, repositoryKey: string): Promise<GitHubIntegration | null> {
  return db.gitHubIntegration.findFirst({
    where: { teamId, suspended: false, repositories: { has: repositoryKey } },
    orderBy: { createdAt: "asc" },
  });
}

/** The installation's integration when it is active and covers the repository (`org/repo`, lower case). */
export async function findInstallationIntegrationCovering(db: Tx, installationId: number, repositoryKey: string): Promise<GitHubIntegration | null> {
  return db.gitHubIntegration.findFirst({
    where: { installationId: BigInt(installationId), suspended: false, repositories: { has: repositoryKey } },
  });
}

export async function insertIntegration(
  db: Tx,
  integration: { teamId: string; installationId: number; account: string | null; repositories: string[] },
): Promise<GitHubIntegration> {
  return db.gitHubIntegration.create({ data: { ...integration, installationId: BigInt(integration.installationId) } });
}

export async function updateIntegration(
  db: Tx,
  id: string,
  changes: { repositories?: string[]; account?: string | null; suspended?: boolean },
): Promise<GitHubIntegration> {
  return db.gitHubIntegration.update({ where: { id }, data: changes });
}

export async function unsuspendIntegrationOfInstallation(db: Tx, installationId: number): Promise<void> {
  await db.gitHubIntegration.updateMany({ where: { installationId: BigInt(installationId) }, data: { suspended: false } });
}
