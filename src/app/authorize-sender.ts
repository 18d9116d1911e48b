// Who may trigger: only the sender of the event, and only with write, maintain or admin on
// the repository — asked of GitHub's collaborator-permission API, never inferred from
// author_association. Triage is not enough, not even to add the label.
import type { Context } from "probot";

export type SenderVerdict = { allowed: true } | { allowed: false; reply: boolean; reason: string };

const triggeringRoles = new Set(["admin", "maintain", "write"]);

export interface SenderCheck {
  octokit: Context["octokit"];
  owner: string;
  repo: string;
  sender: { login: string; type: string };
}

export async function authorizeSender({ octokit, owner, repo, sender }: SenderCheck): Promise<SenderVerdict> {
  // Bots (the app itself included) are ignored silently: its own comments can never loop back.
  if (sender.type === "Bot" || sender.login.endsWith("[bot]")) return { allowed: false, reply: false, reason: "bot sender" };
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: sender.login });
    // role_name distinguishes maintain and triage, which `permission` folds into write and read.
    const role = data.role_name ?? data.permission;
    if (triggeringRoles.has(role)) return { allowed: true };
    return { allowed: false, reply: true, reason: `@${sender.login} has ${role} access; starting Tasks needs write access to this repository` };
  } catch (error) {
    if ((error as { status?: number }).status === 404) {
      return { allowed: false, reply: true, reason: `@${sender.login} is not a collaborator; starting Tasks needs write access to this repository` };
    }
    throw error;
  }
}
