// Users (the people tasks are created for) and their team memberships.
import type { User } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

/** The user with this external id, with their membership of this one team (empty when none). */
export async function findUserWithMembership(db: Tx, externalId: string, teamId: string) {
  return db.user.findUnique({
    where: { externalId },
    include: { memberships: { where: { teamId }, select: { teamId: true } } },
  });
}

export async function findUserByExternalId(db: Tx, externalId: string): Promise<User | null> {
  return db.user.findUnique({ where: { externalId } });
}

export async function findUserByGitHubLogin(db: Tx, githubLogin: string): Promise<User | null> {
  return db.user.findUnique({ where: { githubLogin } });
}

export async function insertUser(db: Tx, user: { externalId: string; githubLogin: string | null; email?: string | null }): Promise<User> {
  return db.user.create({ data: user });
}

export async function updateUserContact(db: Tx, id: string, contact: { githubLogin: string | null; email: string | null }): Promise<User> {
  return db.user.update({ where: { id }, data: contact });
}

/** Makes the user a member of the team; a member already is one, unchanged. */
export async function ensureTeamMembership(db: Tx, teamId: string, userId: string): Promise<void> {
  await db.teamMember.upsert({ where: { teamId_userId: { teamId, userId } }, create: { teamId, userId }, update: {} });
}
