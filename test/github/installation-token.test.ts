import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  isExpiringSoon,
  mintRepositoryToken,
  publishPermissions,
  readPermissions,
  revokeToken,
  type RepositoryPermissions,
} from "../../src/github/installation-token.ts";
import { appPrivateKey, TestOctokit } from "../helpers/github.ts";
import { GitHubApiMock, mockRevoke } from "./mock-more.ts";

const appOctokit = () => new TestOctokit({ auth: { appId: 12345, privateKey: appPrivateKey } });

describe("installation tokens", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("mints a read-only token for one repository", async () => {
    const github = new GitHubApiMock().mintToken(99, { token: "ghs_read", expiresAt: "2030-01-01T01:00:00Z" });
    const minted = await mintRepositoryToken(appOctokit(), { installationId: 99, repository: "posthog/posthog", permissions: readPermissions });
    expect(minted).toEqual({ token: "ghs_read", expiresAt: new Date("2030-01-01T01:00:00Z"), permissions: { contents: "read", metadata: "read" } });
    expect(github.bodiesOf("mint token")).toStrictEqual([{ repositories: ["posthog"], permissions: { contents: "read", metadata: "read" } }]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("mints a publishing token with exactly the publishing permissions", async () => {
    const github = new GitHubApiMock().mintToken(99, { permissions: { ...publishPermissions } });
    await mintRepositoryToken(appOctokit(), { installationId: 99, repository: "posthog/posthog.com", permissions: publishPermissions });
    expect(github.bodiesOf("mint token")).toStrictEqual([
      {
        repositories: ["posthog.com"],
        permissions: { contents: "write", pull_requests: "write", checks: "write", issues: "write", metadata: "read" },
      },
    ]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("never asks for workflows, nor for an unnamed (= everything) or unknown permission set", async () => {
    const github = new GitHubApiMock();
    const mint = (permissions: unknown, repository = "posthog/posthog") =>
      mintRepositoryToken(appOctokit(), { installationId: 99, repository, permissions: permissions as RepositoryPermissions });
    await expect(mint({ contents: "write", workflows: "write" })).rejects.toMatchObject({ code: "permission_not_allowed", kind: "forbidden" });
    await expect(mint({ workflows: "read" })).rejects.toThrow(/workflows/);
    await expect(mint({})).rejects.toMatchObject({ code: "no_permissions" });
    await expect(mint({ administration: "write" })).rejects.toMatchObject({ code: "permission_not_allowed" });
    await expect(mint({ contents: "admin" })).rejects.toMatchObject({ code: "invalid_permission" });
    await expect(mint(readPermissions, "posthog")).rejects.toMatchObject({ code: "invalid_repository" });
    await expect(mint(readPermissions, "posthog/..")).rejects.toMatchObject({ code: "invalid_repository" });
    expect(github.calls).toStrictEqual([]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("revokes a token GitHub granted workflows to anyway, and refuses to return it", async () => {
    const github = new GitHubApiMock().mintToken(99, { token: "ghs_broad", permissions: { contents: "write", workflows: "write", metadata: "read" } });
    const revoke = mockRevoke("https://api.github.com", "ghs_broad", 204);
    await expect(mintRepositoryToken(appOctokit(), { installationId: 99, repository: "posthog/posthog", permissions: publishPermissions })).rejects.toMatchObject({
      code: "token_too_broad",
      message: expect.stringContaining("the token was revoked"),
    });
    expect(github.pending()).toStrictEqual([]);
    expect(revoke.pendingMocks()).toStrictEqual([]);
  });

  it("revokes with the token itself, against the configured API URL (GHES too)", async () => {
    const dotcom = mockRevoke("https://api.github.com", "ghs_one", 204);
    expect(await revokeToken("ghs_one", "https://api.github.com")).toBe("revoked");
    expect(dotcom.pendingMocks()).toStrictEqual([]);

    const ghes = mockRevoke("https://ghe.example.com/api/v3", "ghs_two", 204);
    expect(await revokeToken("ghs_two", "https://ghe.example.com/api/v3/")).toBe("revoked");
    expect(ghes.pendingMocks()).toStrictEqual([]);
  });

  it("treats 401 and 404 as already revoked, and anything else as a failure", async () => {
    const gone = mockRevoke("https://api.github.com", "ghs_gone", 401);
    expect(await revokeToken("ghs_gone", "https://api.github.com")).toBe("already_revoked");
    const missing = mockRevoke("https://api.github.com", "ghs_missing", 404);
    expect(await revokeToken("ghs_missing", "https://api.github.com")).toBe("already_revoked");
    const broken = mockRevoke("https://api.github.com", "ghs_broken", 502);
    await expect(revokeToken("ghs_broken", "https://api.github.com")).rejects.toMatchObject({ code: "token_revoke_failed", kind: "unavailable" });
    for (const scope of [gone, missing, broken]) expect(scope.pendingMocks()).toStrictEqual([]);
  });

  it("says when a token is close enough to expiry to mint a fresh one", () => {
    const expiresAt = new Date("2030-01-01T01:00:00Z");
    expect(isExpiringSoon(expiresAt, new Date("2030-01-01T00:00:00Z"))).toBe(false);
    expect(isExpiringSoon(expiresAt, new Date("2030-01-01T00:56:00Z"))).toBe(true);
    expect(isExpiringSoon(expiresAt, new Date("2030-01-01T00:56:00Z"), 60_000)).toBe(false);
    expect(isExpiringSoon(expiresAt, new Date("2030-01-01T02:00:00Z"), 0)).toBe(true);
  });
});
