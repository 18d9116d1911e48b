import { AppError } from "../lib/errors.ts";

// GitHub's rules: owners are 1–39 alphanumerics or single hyphens; repository names are
// 1–100 of letters, digits, `.`, `-`, `_`, and never `.` or `..`.
const ownerPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const repoPattern = /^[A-Za-z0-9._-]{1,100}$/;

/** Validates `org/repo` and returns it unchanged; GitHub compares these case-insensitively. */
export function parseRepositoryName(value: string, field = "repository"): string {
  const parts = value.split("/");
  const [owner, repo] = parts;
  if (parts.length !== 2 || !owner || !repo || !ownerPattern.test(owner) || !repoPattern.test(repo) || repo === "." || repo === "..") {
    throw new AppError("invalid", "invalid_repository", `${field} must be "org/repo", like "posthog/posthog" (got ${JSON.stringify(value)})`, { field });
  }
  return value;
}

export const repositoryKey = (repository: string): string => repository.toLowerCase();
