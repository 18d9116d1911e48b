// What a stranger or a busy writer can make the App do on GitHub, bounded by durable counts in
// the database (shared by every process, so a redelivered webhook or a second worker counts too):
// a refused sender is answered at most once per issue per hour and never twice for one delivery;
// commands from comments are limited per user and per repository, with one polite reply a window.
import type { AppDeps } from "./app-deps.ts";

const minute = 60_000;

export const triggerLimits = {
  /** A refused sender on one issue hears back at most once in this long. */
  refusalReplyEveryMs: 60 * minute,
  /** How long a delivery is remembered as answered: GitHub redelivers for three days. */
  deliveryMemoryMs: 7 * 24 * 60 * minute,
  /** Comment commands one person may give in a window, across repositories. */
  perUser: { max: 20, windowMs: 10 * minute },
  /** Comment commands a repository may take in a window, from everyone. */
  perRepository: { max: 60, windowMs: 10 * minute },
} as const;

export type TriggerLimits = typeof triggerLimits;

type Deps = Pick<AppDeps, "tasks" | "now">;

const now = (deps: Deps): Date => deps.now?.() ?? new Date();

export interface RefusalRef {
  /** X-GitHub-Delivery of the event that was refused. */
  deliveryId: string;
  /** `owner/repo`. */
  repository: string;
  issueNumber: number;
  /** GitHub's user id: a login can be renamed, the id cannot. */
  senderId: number;
}

/** True when this refusal may be answered on the issue; counts it either way. */
export async function mayAnswerRefusal(deps: Deps, ref: RefusalRef): Promise<boolean> {
  const at = now(deps);
  // The same delivery again (a redelivery, the inbox re-running it after a crash): answered already.
  const delivery = await deps.tasks.countTriggerEvent(`refusal-delivery:${ref.deliveryId}`, at, triggerLimits.deliveryMemoryMs);
  if (delivery.count > 1) return false;
  const sender = await deps.tasks.countTriggerEvent(`refusal:${ref.repository.toLowerCase()}#${ref.issueNumber}:${ref.senderId}`, at, triggerLimits.refusalReplyEveryMs);
  if (sender.count > 1) return false;
  // Once an hour per sender and issue at most, so this stays cheap while the table stays small.
  await deps.tasks.forgetClosedTriggerCounts(at);
  return true;
}

export type CommandBudget = { allowed: true } | { allowed: false; reply: string | undefined };

/**
 * Counts one command from a comment against its sender's and its repository's limits. Over a
 * limit the command is not acted on; only the first command over it in a window gets a reply.
 */
export async function takeCommandBudget(deps: Deps, command: { repository: string; sender: { id: number; login: string } }): Promise<CommandBudget> {
  const at = now(deps);
  const { perUser, perRepository } = triggerLimits;
  const byUser = await deps.tasks.countTriggerEvent(`commands-by-user:${command.sender.id}`, at, perUser.windowMs);
  if (byUser.count > perUser.max) {
    const reply = byUser.count === perUser.max + 1 ? `@${command.sender.login}, Tasks takes at most ${perUser.max} commands per person every ${perUser.windowMs / minute} minutes, so this one was not acted on, nor will be any more before ${clock(byUser.resetsAt)} UTC. Please try again after that.` : undefined;
    return { allowed: false, reply };
  }
  const byRepository = await deps.tasks.countTriggerEvent(`commands-in-repository:${command.repository.toLowerCase()}`, at, perRepository.windowMs);
  if (byRepository.count > perRepository.max) {
    const reply = byRepository.count === perRepository.max + 1 ? `Tasks takes at most ${perRepository.max} commands per repository every ${perRepository.windowMs / minute} minutes, so this one was not acted on, nor will be any more before ${clock(byRepository.resetsAt)} UTC. Please try again after that.` : undefined;
    return { allowed: false, reply };
  }
  return { allowed: true };
}

const clock = (at: Date): string => at.toISOString().slice(11, 16);
