// Commit messages for task commits: `<SLUG>: <title>` so the task is findable from `git log`,
// and the person who asked for the work credited with GitHub's Co-authored-by trailer.

const maxSubjectChars = 72;

export interface CommitMessageInput {
  slug: string;
  title: string;
  body?: string;
}

export function renderCommitMessage(input: CommitMessageInput): string {
  const title = input.title.replace(/\s+/g, " ").trim();
  let subject = `${input.slug}: ${title}`.trim();
  if (subject.length > maxSubjectChars) subject = `${subject.slice(0, maxSubjectChars - 1).trimEnd()}…`;
  const body = input.body?.trim();
  return body ? `${subject}\n\n${body}\n` : `${subject}\n`;
}

/**
 * The GitHub noreply address that attributes a commit to an account without exposing a real
 * address: `ID+login@users.noreply.github.com`, or `users.noreply.<host>` on GitHub Enterprise
 * Server (`webUrl` is `config.github.webUrl`).
 */
export function noreplyEmail(user: { id: number; login: string }, webUrl = "https://github.com"): string {
  const host = new URL(webUrl).hostname;
  return `${user.id}+${user.login}@users.noreply.${host}`;
}
