/**
 * The task-number prefix of a team, by PostHog's rule: the first three upper-case letters when
 * the name has three or more; otherwise the name's first three characters, upper-cased; and
 * `TSK` for shorter names. Only ASCII letters and digits count, so slugs stay URL- and
 * branch-name-safe whatever the team is called.
 */
export function teamPrefix(name: string): string {
  const upper = name.match(/[A-Z]/g) ?? [];
  if (upper.length >= 3) return upper.slice(0, 3).join("");
  const alphanumeric = name.replace(/[^A-Za-z0-9]/g, "");
  if (alphanumeric.length >= 3) return alphanumeric.slice(0, 3).toUpperCase();
  return "TSK";
}

export const formatSlug = (prefix: string, number: number): string => `${prefix}-${number}`;

/** `POS-123` (any case), as accepted wherever a task may be named by slug. */
export const slugPattern = /^([A-Za-z0-9]{3})-([1-9][0-9]{0,9})$/;
