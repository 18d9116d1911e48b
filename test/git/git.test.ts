// Control-plane git against a real remote: a bare repository behind `git http-backend` that
// demands the installation token for pushes. Every git process the code starts is recorded, to
// prove the token only ever travels in that process's environment.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BranchConflictError, bundleSha, createGit } from "../../src/git/git.ts";
import type { ExecFileFn } from "../../src/git/git-runner.ts";
import { renderCommitMessage, noreplyEmail } from "../../src/github/commit-message.ts";
import { startGitHttpServer, type GitHttpServer } from "./git-http-server.ts";

const token = "ghs_TestInstallationToken0123456789abcdef";
const basicCredentials = Buffer.from(`x-access-token:${token}`).toString("base64");
const bot = { name: "tasks[bot]", email: "41898282+tasks[bot]@users.noreply.github.com" };

/** Test-side git, straight on the filesystem (not through the server, not through the code under test). */
function sh(cwd: string, ...args: string[]): string {
  return shRaw(cwd, ...args).trim();
}

function shRaw(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Someone Else",
      GIT_AUTHOR_EMAIL: "someone@example.com",
      GIT_COMMITTER_NAME: "Someone Else",
      GIT_COMMITTER_EMAIL: "someone@example.com",
    },
  });
}

interface Spawned {
  args: string[];
  env: Record<string, string>;
}

describe("control-plane git against a real http remote", () => {
  let root: string;
  let server: GitHttpServer;
  let remoteUrl: string;
  let bareDir: string;
  let seedSha: string;
  const spawned: Spawned[] = [];
  const recordingExecFile: ExecFileFn = (file, args, options, callback) => {
    spawned.push({ args: [...args], env: { ...options.env } });
    return execFile(file, args, options, callback);
  };
  const git = createGit({ env: process.env, execFile: recordingExecFile });

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "tasks-git-"));
    bareDir = path.join(root, "served", "posthog", "posthog.git");
    sh(root, "init", "--quiet", "--bare", "--initial-branch=main", bareDir);
    const seed = path.join(root, "seed");
    sh(root, "init", "--quiet", "--initial-branch=main", seed);
    writeFileSync(path.join(seed, "README.md"), "# posthog\n\nhello\n");
    writeFileSync(path.join(seed, "logo.bin"), Buffer.from([0, 1, 2, 3, 255, 254, 0, 7]));
    sh(seed, "add", "--all");
    sh(seed, "commit", "--quiet", "-m", "initial");
    sh(seed, "push", "--quiet", bareDir, "HEAD:refs/heads/main");
    seedSha = sh(seed, "rev-parse", "HEAD");
    server = await startGitHttpServer({ projectRoot: path.join(root, "served"), token });
    remoteUrl = `${server.url}/posthog/posthog.git`;
  });

  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("clones one branch with the token sent as a header, and nowhere on disk", async () => {
    server.requireAuthForFetch = true;
    try {
      const dir = path.join(root, "clone-auth");
      const clone = await git.cloneMirror({ url: remoteUrl, dir, token, branch: "main" });
      expect(clone.headSha).toBe(seedSha);
      expect(server.requests.filter((request) => request.service === "upload-pack").every((request) => request.auth === "valid")).toBe(true);

      const config = readFileSync(path.join(dir, ".git", "config"), "utf8");
      expect(config).not.toContain(token);
      expect(config).not.toContain(basicCredentials);
      expect(config).not.toMatch(/extraheader/i);
      expect(sh(dir, "remote", "get-url", "origin")).toBe(remoteUrl);

      const cloneCall = spawned.find((call) => call.args[0] === "clone")!;
      expect(cloneCall.env["GIT_CONFIG_KEY_0"]).toBe(`http.${server.url}/.extraheader`);
      expect(cloneCall.env["GIT_CONFIG_VALUE_0"]).toBe(`AUTHORIZATION: basic ${basicCredentials}`);
      expect(cloneCall.env["GIT_TERMINAL_PROMPT"]).toBe("0");
    } finally {
      server.requireAuthForFetch = false;
    }
  });

  it("fails fast, without prompting, when the remote wants a token it did not get", async () => {
    server.requireAuthForFetch = true;
    try {
      await expect(git.cloneMirror({ url: remoteUrl, dir: path.join(root, "clone-noauth"), branch: "main" })).rejects.toMatchObject({ code: "git_failed" });
      await expect(git.cloneMirror({ url: remoteUrl, dir: path.join(root, "clone-badauth"), branch: "main", token: "ghs_wrong" })).rejects.toMatchObject({
        code: "git_failed",
      });
    } finally {
      server.requireAuthForFetch = false;
    }
  });

  it("refuses a remote URL with credentials in it", async () => {
    const withCredentials = remoteUrl.replace("http://", `http://x-access-token:${token}@`);
    await expect(git.cloneMirror({ url: withCredentials, dir: path.join(root, "never"), branch: "main", token })).rejects.toMatchObject({ code: "credentials_in_url" });
  });

  it("bundles a clone so another directory can clone from the file alone", async () => {
    const dir = path.join(root, "clone-bundle");
    await git.cloneMirror({ url: remoteUrl, dir, branch: "main" });
    const file = path.join(root, "repo.bundle");
    const bundle = await git.createBundle(dir, "main", file);
    expect(bundle).toMatchObject({ file, ref: "refs/heads/main", commitSha: seedSha });
    expect(bundle.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await bundleSha(file)).toBe(bundle.sha256);

    const sandboxCopy = path.join(root, "sandbox-checkout");
    sh(root, "clone", "--quiet", "--branch", "main", file, sandboxCopy);
    expect(sh(sandboxCopy, "rev-parse", "HEAD")).toBe(seedSha);
    expect(readFileSync(path.join(sandboxCopy, "README.md"), "utf8")).toContain("hello");
    // The sandbox's only remote is the bundle file: no URL to GitHub, no credential.
    expect(sh(sandboxCopy, "remote", "get-url", "origin")).toBe(file);
  });

  it("will not bundle a shallow clone, whose history the bundle could not carry", async () => {
    const dir = path.join(root, "clone-shallow");
    await git.cloneMirror({ url: remoteUrl, dir, branch: "main", depth: 1 });
    await expect(git.createBundle(dir, "main", path.join(root, "shallow.bundle"))).rejects.toMatchObject({ code: "shallow_clone" });
  });

  it("applies the sandbox's patch, commits with a co-author, pushes, fast-forwards, and never overwrites someone else's commit", async () => {
    const branch = "tasks/pos-123-fix-the-readme";
    const dir = path.join(root, "clone-publish");
    await git.cloneMirror({ url: remoteUrl, dir, token, branch: "main" });

    // What the sandbox produces: a binary-safe diff of its working tree against the base.
    const sandbox = path.join(root, "sandbox-work");
    sh(root, "clone", "--quiet", bareDir, sandbox);
    writeFileSync(path.join(sandbox, "README.md"), "# posthog\n\nhello, world\n");
    writeFileSync(path.join(sandbox, "icon.bin"), Buffer.from([9, 0, 8, 0, 255]));
    sh(sandbox, "mv", "logo.bin", "brand.bin");
    sh(sandbox, "add", "--all");
    const patch = shRaw(sandbox, "diff", "--cached", "--binary", "HEAD");

    const applied = await git.applyPatch(dir, patch);
    expect(applied.files.sort()).toEqual(["README.md", "brand.bin", "icon.bin"]);
    expect(readFileSync(path.join(dir, "icon.bin"))).toEqual(Buffer.from([9, 0, 8, 0, 255]));

    const coAuthor = { name: "Jane Doe", email: noreplyEmail({ id: 583231, login: "janedoe" }) };
    const message = renderCommitMessage({ slug: "POS-123", title: "Fix the README", body: "Says hello to the world." });
    const first = await git.commitAll(dir, { message, authorName: bot.name, authorEmail: bot.email, coAuthor });
    expect(first.committed).toBe(true);
    expect(sh(dir, "log", "-1", "--format=%B")).toBe("POS-123: Fix the README\n\nSays hello to the world.\n\nCo-authored-by: Jane Doe <583231+janedoe@users.noreply.github.com>");
    expect(sh(dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>")).toBe(`${bot.name} <${bot.email}>|${bot.name} <${bot.email}>`);
    expect(sh(dir, "interpret-trailers", "--parse", "--no-divider", path.join(dir, ".git", "COMMIT_EDITMSG"))).toBe("Co-authored-by: Jane Doe <583231+janedoe@users.noreply.github.com>");
    // A retried commit step finds its work done.
    expect(await git.commitAll(dir, { message, authorName: bot.name, authorEmail: bot.email })).toEqual({ sha: first.sha, committed: false });

    // First push: a new branch.
    expect(await git.remoteBranchSha({ remoteUrl, branch, token })).toBeNull();
    const pushesBefore = server.requests.length;
    expect(await git.pushBranch({ repoDir: dir, remoteUrl, branch, token, expectedRemoteSha: null })).toEqual({ sha: first.sha });
    const pushRequests = server.requests.slice(pushesBefore).filter((request) => request.service === "receive-pack");
    expect(pushRequests.length).toBeGreaterThan(0);
    expect(pushRequests.every((request) => request.auth === "valid")).toBe(true);
    expect(sh(bareDir, "rev-parse", `refs/heads/${branch}`)).toBe(first.sha);
    expect(await git.remoteBranchSha({ remoteUrl, branch, token })).toBe(first.sha);

    // Second push: a fast-forward on top of what Tasks pushed.
    writeFileSync(path.join(dir, "CHANGELOG.md"), "- hello\n");
    const second = await git.commitAll(dir, { message: renderCommitMessage({ slug: "POS-123", title: "Changelog" }), authorName: bot.name, authorEmail: bot.email });
    await git.pushBranch({ repoDir: dir, remoteUrl, branch, token, expectedRemoteSha: first.sha });
    expect(sh(bareDir, "rev-parse", `refs/heads/${branch}`)).toBe(second.sha);

    // Someone else adds a commit to the task branch.
    const human = path.join(root, "human");
    sh(root, "clone", "--quiet", "--branch", branch, bareDir, human);
    writeFileSync(path.join(human, "NOTES.md"), "mine\n");
    sh(human, "add", "--all");
    sh(human, "commit", "--quiet", "-m", "human change");
    sh(human, "push", "--quiet", "origin", `HEAD:refs/heads/${branch}`);
    const humanSha = sh(human, "rev-parse", "HEAD");

    // Tasks rewrites its own work (e.g. a re-run of Code): its lease is on the sha it pushed.
    sh(dir, "reset", "--quiet", "--hard", first.sha);
    writeFileSync(path.join(dir, "CHANGELOG.md"), "- hello again\n");
    await git.commitAll(dir, { message: "POS-123: Changelog again\n", authorName: bot.name, authorEmail: bot.email });
    const leased = git.pushBranch({ repoDir: dir, remoteUrl, branch, token, expectedRemoteSha: second.sha });
    await expect(leased).rejects.toBeInstanceOf(BranchConflictError);
    await expect(leased).rejects.toThrow(`the branch ${branch} has commits Tasks did not make; not overwriting them`);
    // Not knowing the branch (a plain push) is refused the same way.
    await expect(git.pushBranch({ repoDir: dir, remoteUrl, branch, token, expectedRemoteSha: null })).rejects.toBeInstanceOf(BranchConflictError);
    expect(sh(bareDir, "rev-parse", `refs/heads/${branch}`)).toBe(humanSha);

    // A wrong token is an auth failure, not a conflict, and its message holds no secret.
    const wrong = git.pushBranch({ repoDir: dir, remoteUrl, branch: "tasks/other", token: "ghs_wrong_token", expectedRemoteSha: null });
    await expect(wrong).rejects.toMatchObject({ code: "git_failed", kind: "unavailable", message: expect.stringMatching(/^git push failed \(exit 128\)/) });
    await expect(wrong).rejects.not.toThrow(/ghs_wrong_token/);
    expect(sh(bareDir, "for-each-ref", "--format=%(refname)", "refs/heads/tasks/other")).toBe("");

    const config = readFileSync(path.join(dir, ".git", "config"), "utf8");
    expect(config).not.toContain(token);
    expect(config).not.toContain(basicCredentials);
    expect(sh(dir, "remote", "get-url", "origin")).toBe(remoteUrl);
  });

  it("lets Tasks replace its own commits when nobody else touched the branch", async () => {
    const branch = "tasks/pos-124-own-rewrite";
    const dir = path.join(root, "clone-rewrite");
    await git.cloneMirror({ url: remoteUrl, dir, token, branch: "main" });
    writeFileSync(path.join(dir, "a.txt"), "one\n");
    const first = await git.commitAll(dir, { message: "POS-124: one\n", authorName: bot.name, authorEmail: bot.email });
    await git.pushBranch({ repoDir: dir, remoteUrl, branch, token, expectedRemoteSha: null });
    sh(dir, "reset", "--quiet", "--hard", seedSha);
    writeFileSync(path.join(dir, "a.txt"), "two\n");
    const rewritten = await git.commitAll(dir, { message: "POS-124: two\n", authorName: bot.name, authorEmail: bot.email });
    await git.pushBranch({ repoDir: dir, remoteUrl, branch, token, expectedRemoteSha: first.sha });
    expect(sh(bareDir, "rev-parse", `refs/heads/${branch}`)).toBe(rewritten.sha);
  });

  it("refuses patches that reach into .git/, however the path is spelled", async () => {
    const dir = path.join(root, "clone-hostile");
    await git.cloneMirror({ url: remoteUrl, dir, branch: "main" });
    const hookBefore = readdirSync(path.join(dir, ".git", "hooks")).sort();
    const newFile = (header: string, target: string) =>
      [`diff --git ${header}`, "new file mode 100755", "index 0000000..e69de29", "--- /dev/null", `+++ ${target}`, "@@ -0,0 +1,2 @@", "+#!/bin/sh", "+id", ""].join("\n");
    const patches = [
      newFile("a/.git/hooks/post-commit b/.git/hooks/post-commit", "b/.git/hooks/post-commit"),
      newFile("a/.GIT/hooks/post-commit b/.GIT/hooks/post-commit", "b/.GIT/hooks/post-commit"),
      newFile('"a/\\056git/hooks/post-commit" "b/\\056git/hooks/post-commit"', '"b/\\056git/hooks/post-commit"'),
      newFile("a/sub/.git/config b/sub/.git/config", "b/sub/.git/config"),
      [
        "diff --git a/README.md b/.git/config",
        "similarity index 100%",
        "rename from README.md",
        "rename to .git/config",
        "",
      ].join("\n"),
    ];
    for (const patch of patches) {
      await expect(git.applyPatch(dir, patch)).rejects.toMatchObject({ code: "patch_touches_git_dir", kind: "forbidden" });
    }
    expect(readdirSync(path.join(dir, ".git", "hooks")).sort()).toEqual(hookBefore);
    expect(sh(dir, "status", "--porcelain")).toBe("");
  });

  it("reads HEAD and discards a half-done working tree", async () => {
    const dir = path.join(root, "clone-discard");
    await git.cloneMirror({ url: remoteUrl, dir, branch: "main" });
    expect(await git.headSha(dir)).toBe(seedSha);
    writeFileSync(path.join(dir, "README.md"), "changed\n");
    writeFileSync(path.join(dir, "untracked.txt"), "new\n");
    sh(dir, "add", "README.md");
    await git.discardChanges(dir);
    expect(sh(dir, "status", "--porcelain", "--ignored")).toBe("");
    expect(await git.headSha(dir)).toBe(seedSha);
  });

  it("reports a patch that does not apply as unprocessable", async () => {
    const dir = path.join(root, "clone-stale");
    await git.cloneMirror({ url: remoteUrl, dir, branch: "main" });
    const stale = ["diff --git a/README.md b/README.md", "--- a/README.md", "+++ b/README.md", "@@ -1,3 +1,3 @@", " # other", " ", "-bye", "+hi", ""].join("\n");
    await expect(git.applyPatch(dir, stale)).rejects.toMatchObject({ code: "patch_does_not_apply", kind: "unprocessable" });
    expect(await git.applyPatch(dir, "   \n")).toEqual({ files: [] });
  });

  it("never put the token in the argv of any git process, and only ever in the extraheader", () => {
    expect(spawned.length).toBeGreaterThan(10);
    for (const call of spawned) {
      const argv = call.args.join("\0");
      expect(argv).not.toContain(token);
      expect(argv).not.toContain(basicCredentials);
      expect(argv).not.toContain("ghs_wrong");
      for (const [name, value] of Object.entries(call.env)) {
        if (name === "GIT_CONFIG_VALUE_0") continue;
        expect(value).not.toContain(token);
        expect(value).not.toContain(basicCredentials);
      }
    }
    const authenticated = spawned.filter((call) => call.env["GIT_CONFIG_VALUE_0"] !== undefined);
    expect(new Set(authenticated.map((call) => call.args[0]))).toEqual(new Set(["clone", "ls-remote", "push"]));
    // Commands that do not talk to the remote never see the header.
    expect(spawned.filter((call) => call.args[0] === "commit").every((call) => call.env["GIT_CONFIG_VALUE_0"] === undefined)).toBe(true);
  });
});
