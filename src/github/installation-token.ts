// Short-lived installation tokens narrowed to one repository (ARCHITECTURE.md, "Planes and
// trust"). Every token names its permissions explicitly: GitHub grants *all* of the app's
// permissions when `permissions` is omitted, and `workflows` is never asked for, so nothing
// Tasks pushes can change a repository's CI definitions.
import type { ProbotOctokit } from "probot";
import { AppError } from "../lib/errors.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export type PermissionLevel = "read" | "write";

/** The repository permissions Tasks may ask for. `workflows` is deliberately not one of them. */
export interface RepositoryPermissions {
  metadata?: "read";
  contents?: PermissionLevel;
  pull_requests?: PermissionLevel;
  checks?: PermissionLevel;
  issues?: PermissionLevel;
  statuses?: PermissionLevel;
}

/** Fetching the repository into the control plane. */
export const readPermissions = Object.freeze({ contents: "read", metadata: "read" } as const satisfies RepositoryPermissions);

/** Pushing the task branch, opening the pull request, check runs and the tracking comment. */
export const publishPermissions = Object.freeze({
  contents: "write",
  pull_requests: "write",
  checks: "write",
  issues: "write",
  metadata: "read",
} as const satisfies RepositoryPermissions);

export interface MintRepositoryTokenInput {
  installationId: number;
  /** `owner/name`; the token is valid for this repository only. */
  repository: string;
  permissions: RepositoryPermissions;
}

export interface RepositoryToken {
  token: string;
  expiresAt: Date;
  /** What GitHub actually granted (it may be less than asked for, never more). */
  permissions: Record<string, string>;
}

const forbiddenPermissions = ["workflows"];
const allowedPermissions = new Set(["metadata", "contents", "pull_requests", "checks", "issues", "statuses"]);

/**
 * Mints an installation token for one repository with exactly `permissions`.
 * `appOctokit` must be authenticated as the app (a JWT), e.g. what Probot's `app.auth()` returns.
 */
export async function mintRepositoryToken(appOctokit: Octokit, input: MintRepositoryTokenInput): Promise<RepositoryToken> {
  const name = repositoryName(input.repository);
  const permissions = checkedPermissions(input.permissions);
  const response = await appOctokit.request("POST /app/installations/{installation_id}/access_tokens", {
    installation_id: input.installationId,
    repositories: [name],
    permissions,
  });
  const granted = (response.data.permissions ?? {}) as Record<string, string>;
  // Belt and braces: a token that can edit workflows must never leave this function.
  for (const forbidden of forbiddenPermissions) {
    if (granted[forbidden] !== undefined) {
      const revokeError = await revokeReportingError(appOctokit, response.data.token);
      throw new AppError("forbidden", "token_too_broad", `GitHub granted the "${forbidden}" permission, which Tasks never asks for; ${revokeError ? "revoking the token failed" : "the token was revoked"}`, {
        cause: revokeError,
      });
    }
  }
  return { token: response.data.token, expiresAt: new Date(response.data.expires_at), permissions: granted };
}

export type RevokeResult = "revoked" | "already_revoked";

/**
 * Revokes an installation token with the token itself (`DELETE /installation/token`).
 * `apiUrl` is `config.github.apiUrl`, so GitHub Enterprise Server works too.
 */
export async function revokeToken(token: string, apiUrl: string): Promise<RevokeResult> {
  const response = await fetch(`${apiUrl.replace(/\/+$/, "")}/installation/token`, {
    method: "DELETE",
    headers: {
      accept: "application/vnd.github+json",
      authorization: `token ${token}`,
      "x-github-api-version": "2022-11-28",
      "user-agent": "tasks-github-app",
    },
  });
  await response.body?.cancel();
  if (response.status === 204) return "revoked";
  // An expired or already revoked token answers 401; either way it no longer works.
  if (response.status === 401 || response.status === 404) return "already_revoked";
  throw new AppError("unavailable", "token_revoke_failed", `revoking the installation token failed: GitHub answered ${response.status}`);
}

/** True when the token expires within `marginMs` of `now`: long tasks mint a fresh one first. */
export function isExpiringSoon(expiresAt: Date, now: Date, marginMs = 5 * 60_000): boolean {
  return expiresAt.getTime() - now.getTime() <= marginMs;
}

function repositoryName(repository: string): string {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repository);
  if (!match || match[2] === "." || match[2] === "..") {
    throw new AppError("invalid", "invalid_repository", `expected a repository as owner/name, got ${JSON.stringify(repository)}`);
  }
  return match[2]!;
}

function checkedPermissions(permissions: RepositoryPermissions): Record<string, string> {
  const entries = Object.entries(permissions as Record<string, unknown>).filter(([, level]) => level !== undefined);
  for (const [name, level] of entries) {
    // Types keep honest callers out; this keeps out casts and data that came from elsewhere.
    if (forbiddenPermissions.includes(name)) {
      throw new AppError("forbidden", "permission_not_allowed", `Tasks never requests the "${name}" permission`);
    }
    if (!allowedPermissions.has(name)) {
      throw new AppError("invalid", "permission_not_allowed", `Tasks does not request the "${name}" permission`);
    }
    if (level !== "read" && level !== "write") {
      throw new AppError("invalid", "invalid_permission", `permission "${name}" must be "read" or "write"`);
    }
  }
  if (entries.length === 0) {
    // An empty set would make GitHub grant every permission the app has.
    throw new AppError("invalid", "no_permissions", "name the permissions the token needs");
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Returns the revocation's error rather than throwing it: the caller reports the broader grant first. */
async function revokeReportingError(appOctokit: Octokit, token: string): Promise<unknown> {
  try {
    await revokeToken(token, appOctokit.request.endpoint.DEFAULTS.baseUrl);
    return undefined;
  } catch (error) {
    return error;
  }
}
