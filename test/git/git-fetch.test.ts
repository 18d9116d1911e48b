// Making a control clone whole again over a real http remote that wants the installation token:
// a commit the cloned branch no longer reaches is fetched by sha, a lost one is reported as
// lost, and the clone checks used before trusting a directory.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGit } from "../../src/git/git.ts";
import { startGitHttpServer, type GitHttpServer } from "./git-http-server.ts";

const token = "ghs_FetchTestToken0123456789abcdef";

function sh(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Someone",
      GIT_AUTHOR_EMAIL: "someone@example.com",
      GIT_COMMITTER_NAME: "Someone",
      GIT_COMMITTER_EMAIL: "someone@example.com",
    },
  }).trim();
}

describe("fetching what a fresh clone lacks", () => {
  let root: string;
  let server: GitHttpServer;
  let remoteUrl: string;
  let bareDir: string;
  let base: string;
  let side: string;
  const git = createGit({ env: process.env });

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "tasks-git-fetch-"));
    bareDir = path.join(root, "served", "o", "r.git");
    sh(root, "init", "--quiet", "--bare", "--initial-branch=main", bareDir);
    const seed = path.join(root, "seed");
    sh(root, "init", "--quiet", "--initial-branch=main", seed);
    writeFileSync(path.join(seed, "README.md"), "one\n");
    sh(seed, "add", "--all");
    sh(seed, "commit", "--quiet", "-m", "one");
    base = sh(seed, "rev-parse", "HEAD");
    // The base survives only on another branch; main is rewritten without it.
    sh(seed, "push", "--quiet", bareDir, "HEAD:refs/heads/keep");
    sh(seed, "checkout", "--quiet", "--orphan", "fresh");
    writeFileSync(path.join(seed, "README.md"), "fresh\n");
    sh(seed, "commit", "--quiet", "-am", "fresh");
    side = sh(seed, "rev-parse", "HEAD");
    sh(seed, "push", "--quiet", bareDir, "HEAD:refs/heads/main");
    server = await startGitHttpServer({ projectRoot: path.join(root, "served"), token });
    server.requireAuthForFetch = true;
    remoteUrl = `${server.url}/o/r.git`;
  });

  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("fetches a commit by sha with the token in a header, and answers false for one the remote lacks", async () => {
    const dir = path.join(root, "clone");
    await git.cloneMirror({ url: remoteUrl, dir, token, branch: "main" });
    expect(await git.hasCommit(dir, side)).toBe(true);
    expect(await git.hasCommit(dir, base)).toBe(false);

    expect(await git.fetchCommit({ repoDir: dir, remote: remoteUrl, sha: base, token })).toBe(true);
    expect(await git.hasCommit(dir, base)).toBe(true);
    await git.resetTo(dir, base);
    expect(await git.headSha(dir)).toBe(base);
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toBe("one\n");
    expect(await git.commitShape(dir, "HEAD")).toEqual({ sha: base, tree: sh(dir, "rev-parse", "HEAD^{tree}"), parents: [] });
    expect(readFileSync(path.join(dir, ".git", "config"), "utf8")).not.toContain(token);

    expect(await git.fetchCommit({ repoDir: dir, remote: remoteUrl, sha: "1".repeat(40), token })).toBe(false);
    await expect(git.fetchCommit({ repoDir: dir, remote: remoteUrl, sha: "2".repeat(40), token: "ghs_wrong" })).rejects.toMatchObject({ code: "git_failed", kind: "unavailable" });
    await expect(git.fetchCommit({ repoDir: dir, remote: remoteUrl, sha: "--upload-pack=evil", token })).rejects.toMatchObject({ code: "invalid_sha" });
  });

  it("takes a directory for a clone only when it is the top of one with a commit", async () => {
    expect(await git.isClone(path.join(root, "nowhere"))).toBe(false);
    // Inside another repository is not a clone of its own.
    const inside = path.join(root, "seed", "sub");
    mkdirSync(inside);
    expect(await git.isClone(inside)).toBe(false);
    const empty = path.join(root, "empty");
    sh(root, "init", "--quiet", empty);
    expect(await git.isClone(empty)).toBe(false);
    expect(await git.isClone(path.join(root, "seed"))).toBe(true);
  });
});
