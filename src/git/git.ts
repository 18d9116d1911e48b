// Control-plane git: clone the repository, hand the sandbox a bundle (so the sandbox never
// talks to GitHub with a credential), apply the sandbox's patch, commit, and push the task
// branch without ever overwriting commits Tasks did not make.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AppError } from "../lib/errors.ts";
import { assertSafeBranchName } from "./branch-name.ts";
import { assertPlainHttpUrl, createGitRunner, GitCommandError, type GitRunner, type GitRunnerDeps } from "./git-runner.ts";
import { assertPatchStaysOutOfGitDir, pathsTouchedByPatch } from "./patch-paths.ts";
import { blobSizes, parseRawDiff, readBlobs, type StagedBlob } from "./staged-blobs.ts";

export interface CloneInput {
  url: string;
  dir: string;
  branch: string;
  /** Omit for public repositories. */
  token?: string;
  /** A shallow clone is enough to commit and push, but cannot be bundled for the sandbox. */
  depth?: number;
}

export interface BundleResult {
  file: string;
  /** The full ref in the bundle, e.g. `refs/heads/main`. */
  ref: string;
  commitSha: string;
  /** sha256 of the bundle file, to check the copy that reached the sandbox. */
  sha256: string;
}

export interface CommitInput {
  message: string;
  authorName: string;
  authorEmail: string;
  coAuthor?: { name: string; email: string };
}

export interface PushInput {
  repoDir: string;
  remoteUrl: string;
  branch: string;
  token: string;
  /** The branch's sha as Tasks last pushed it, or null when Tasks has not pushed it before. */
  expectedRemoteSha: string | null;
}

/** The branch has commits Tasks did not make (or moved since Tasks pushed): nothing was overwritten. */
export class BranchConflictError extends AppError {
  constructor(readonly branch: string, detail: string) {
    super("conflict", "branch_has_foreign_commits", `the branch ${branch} has commits Tasks did not make; not overwriting them (${detail})`);
    this.name = "BranchConflictError";
  }
}

export type Git = ReturnType<typeof createGit>;

export function createGit(deps: GitRunnerDeps) {
  const git = createGitRunner(deps);
  const text = async (cwd: string, ...args: string[]) => (await git({ cwd, args })).stdout.trim();

  return {
    /** A working clone of one branch; the token, when given, is sent as a header only. */
    async cloneMirror(input: CloneInput): Promise<{ dir: string; headSha: string }> {
      assertPlainHttpUrl(input.url);
      const depth = input.depth === undefined ? [] : [`--depth=${Math.max(1, Math.floor(input.depth))}`];
      const auth = input.token === undefined ? {} : { auth: { url: input.url, token: input.token } };
      await git({ args: ["clone", "--quiet", "--no-tags", "--single-branch", `--branch=${input.branch}`, ...depth, "--", input.url, input.dir], ...auth });
      return { dir: input.dir, headSha: await text(input.dir, "rev-parse", "HEAD") };
    },

    /** Bundles `ref` (and HEAD when it points there), for `git clone --branch <name> <file>` in the sandbox. */
    async createBundle(repoDir: string, ref: string, file: string): Promise<BundleResult> {
      if (ref.startsWith("-")) throw new AppError("invalid", "invalid_ref", `not a ref: ${JSON.stringify(ref)}`);
      if ((await text(repoDir, "rev-parse", "--is-shallow-repository")) === "true") {
        // Its commits name parents the bundle cannot carry, so cloning from it fails.
        throw new AppError("unprocessable", "shallow_clone", "a shallow clone cannot be bundled; clone without a depth");
      }
      const fullRef = await text(repoDir, "rev-parse", "--symbolic-full-name", ref);
      if (!fullRef.startsWith("refs/")) throw new AppError("invalid", "invalid_ref", `${JSON.stringify(ref)} is not a branch or tag`);
      const commitSha = await text(repoDir, "rev-parse", "--verify", `${fullRef}^{commit}`);
      const head = await git({ cwd: repoDir, args: ["symbolic-ref", "--quiet", "HEAD"], okExitCodes: [1] });
      const refs = head.stdout.trim() === fullRef ? ["HEAD", fullRef] : [fullRef];
      await git({ cwd: repoDir, args: ["bundle", "create", "--quiet", file, ...refs] });
      return { file, ref: fullRef, commitSha, sha256: await bundleSha(file) };
    },

    /** Applies the sandbox's diff (its exact bytes, or text) to the index and working tree; refuses anything under `.git/`. */
    async applyPatch(repoDir: string, patch: string | Uint8Array): Promise<{ files: string[] }> {
      // Headers are ASCII (paths are quoted), so a byte-for-byte reading finds every path.
      const patchText = typeof patch === "string" ? patch : Buffer.from(patch.buffer, patch.byteOffset, patch.byteLength).toString("latin1");
      if (patchText.trim() === "") return { files: [] };
      assertPatchStaysOutOfGitDir(patchText);
      // git's own reading of the patch is the one that counts (quoted and escaped paths included).
      const numstat = await applyOrRefuse(git, repoDir, ["apply", "--numstat", "-z", "--binary", "-"], patch);
      const files = pathsTouchedByPatch(numstat);
      await applyOrRefuse(git, repoDir, ["apply", "--index", "--binary", "--whitespace=nowarn", "-"], patch);
      return { files };
    },

    /** Each file the index changes against `baseSha`, with its blob before and after (renames split). */
    async stagedBlobs(repoDir: string, baseSha: string): Promise<StagedBlob[]> {
      assertSha(baseSha);
      const args = ["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", "--ignore-submodules=none", baseSha, "--"];
      return parseRawDiff((await git({ cwd: repoDir, args })).stdout);
    },

    /** Sizes in bytes of blobs in the repository. */
    blobSizes(repoDir: string, shas: string[]): Promise<Map<string, number>> {
      return blobSizes(git, repoDir, shas);
    },

    /** The bytes of blobs, one latin1 character per byte. */
    readBlobs(repoDir: string, shas: string[]): Promise<Map<string, string>> {
      return readBlobs(git, repoDir, shas);
    },

    /**
     * What the index changes against `baseSha` as `git diff --name-status -z` records, renames
     * split into a delete and an add: the paths as git itself will commit them.
     */
    async stagedNameStatus(repoDir: string, baseSha: string): Promise<string> {
      assertSha(baseSha);
      return (await git({ cwd: repoDir, args: ["diff", "--cached", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--ignore-submodules=none", baseSha, "--"] })).stdout;
    },

    async headSha(repoDir: string): Promise<string> {
      return text(repoDir, "rev-parse", "--verify", "HEAD");
    },

    /**
     * Whether `dir` is itself a clone with a commit checked out. Not merely inside one: git looks
     * up the tree for a repository, and the control plane's data directory may sit in another.
     */
    async isClone(dir: string): Promise<boolean> {
      try {
        if (!(await stat(dir)).isDirectory()) return false;
      } catch {
        return false;
      }
      const top = await git({ cwd: dir, args: ["rev-parse", "--show-toplevel"], okExitCodes: [128] });
      if (top.exitCode !== 0 || top.stdout.trim() !== (await realpath(dir))) return false;
      return (await git({ cwd: dir, args: ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], okExitCodes: [1] })).exitCode === 0;
    },

    async hasCommit(repoDir: string, sha: string): Promise<boolean> {
      assertSha(sha);
      return (await git({ cwd: repoDir, args: ["rev-parse", "--verify", "--quiet", `${sha}^{commit}`], okExitCodes: [1] })).exitCode === 0;
    },

    /** A commit's tree and parents, to tell whether two commits make the same change on the same base. */
    async commitShape(repoDir: string, rev: string): Promise<{ sha: string; tree: string; parents: string[] }> {
      if (rev.startsWith("-")) throw new AppError("invalid", "invalid_ref", `not a ref: ${JSON.stringify(rev)}`);
      const [sha = "", tree = "", parents = ""] = (await text(repoDir, "show", "-s", "--no-show-signature", "--format=%H%n%T%n%P", `${rev}^{commit}`)).split("\n");
      return { sha, tree, parents: parents.split(" ").filter(Boolean) };
    },

    /**
     * Fetches one commit (and what it needs) by sha, with no ref written: a commit the cloned
     * branch does not reach. False when the remote does not have it. `remote` is an http(s)
     * URL when a token goes with it, else also a local repository's path.
     */
    async fetchCommit(input: { repoDir: string; remote: string; sha: string; token?: string }): Promise<boolean> {
      assertSha(input.sha);
      const auth = input.token === undefined ? {} : { auth: { url: input.remote, token: input.token } };
      const output = await git({ cwd: input.repoDir, args: ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", input.remote, input.sha], ...auth, okExitCodes: [128] });
      if (output.exitCode === 0) return true;
      if (/not our ref|no such remote ref|unadvertised object/i.test(output.stderr)) return false;
      const detail = output.stderr.trim().split("\n").slice(-5).join("\n");
      throw new GitCommandError("unavailable", "git_failed", `git fetch failed (exit ${output.exitCode})${detail ? `: ${detail}` : ""}`, output);
    },

    /** Checks out `sha` exactly (moving the current branch there), with nothing left over from before. */
    async resetTo(repoDir: string, sha: string): Promise<void> {
      assertSha(sha);
      await git({ cwd: repoDir, args: ["reset", "--quiet", "--hard", sha] });
      await git({ cwd: repoDir, args: ["clean", "--quiet", "-f", "-d", "-x"] });
    },

    /** Back to HEAD exactly: staged, unstaged and untracked (ignored too) changes are dropped. */
    async discardChanges(repoDir: string): Promise<void> {
      await git({ cwd: repoDir, args: ["reset", "--quiet", "--hard", "HEAD"] });
      await git({ cwd: repoDir, args: ["clean", "--quiet", "-f", "-d", "-x"] });
    },

    /** Commits everything in the working tree; a clean tree is not an error (a retried step finds its commit). */
    async commitAll(repoDir: string, input: CommitInput): Promise<{ sha: string; committed: boolean }> {
      await git({ cwd: repoDir, args: ["add", "--all"] });
      const staged = await git({ cwd: repoDir, args: ["diff", "--cached", "--quiet"], okExitCodes: [1] });
      if (staged.exitCode === 0) return { sha: await text(repoDir, "rev-parse", "HEAD"), committed: false };
      const identity = {
        GIT_AUTHOR_NAME: oneLine(input.authorName),
        GIT_AUTHOR_EMAIL: oneLine(input.authorEmail),
        GIT_COMMITTER_NAME: oneLine(input.authorName),
        GIT_COMMITTER_EMAIL: oneLine(input.authorEmail),
      };
      const message = withCoAuthor(input.message, input.coAuthor);
      await git({ cwd: repoDir, args: ["commit", "--quiet", "--no-verify", "--no-gpg-sign", "--cleanup=whitespace", "--file=-"], stdin: message, env: identity });
      return { sha: await text(repoDir, "rev-parse", "HEAD"), committed: true };
    },

    /** An empty commit on HEAD (a task's start: its check runs live on a commit of its own), returning its sha. */
    async commitEmpty(repoDir: string, input: Omit<CommitInput, "coAuthor">): Promise<string> {
      const identity = {
        GIT_AUTHOR_NAME: oneLine(input.authorName),
        GIT_AUTHOR_EMAIL: oneLine(input.authorEmail),
        GIT_COMMITTER_NAME: oneLine(input.authorName),
        GIT_COMMITTER_EMAIL: oneLine(input.authorEmail),
      };
      const args = ["commit", "--quiet", "--allow-empty", "--no-verify", "--no-gpg-sign", "--cleanup=whitespace", "--file=-"];
      await git({ cwd: repoDir, args, stdin: withCoAuthor(input.message, undefined), env: identity });
      return text(repoDir, "rev-parse", "HEAD");
    },

    /**
     * Deletes `refs/heads/<branch>` at the remote only while it is still at `expectedSha` (a lease,
     * never a blind delete); false when the branch moved or is gone. Pushed from a scratch
     * repository, so it needs no clone.
     */
    async deleteRemoteBranch(input: { remoteUrl: string; branch: string; token?: string; expectedSha: string }): Promise<boolean> {
      assertSafeBranchName(input.branch);
      assertSha(input.expectedSha);
      const ref = `refs/heads/${input.branch}`;
      const scratch = await mkdtemp(path.join(tmpdir(), "tasks-delete-branch-"));
      try {
        await git({ cwd: scratch, args: ["init", "--quiet", "--bare"] });
        const output = await git({
          cwd: scratch,
          args: ["push", "--porcelain", "--no-verify", `--force-with-lease=${ref}:${input.expectedSha}`, "--", input.remoteUrl, `:${ref}`],
          ...(input.token === undefined ? {} : { auth: { url: input.remoteUrl, token: input.token } }),
          okExitCodes: [1],
        });
        return output.exitCode === 0;
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },

    /** The branch's sha on the remote, or null when the branch does not exist there. */
    async remoteBranchSha(input: { remoteUrl: string; branch: string; token?: string }): Promise<string | null> {
      assertSafeBranchName(input.branch);
      const auth = input.token === undefined ? {} : { auth: { url: input.remoteUrl, token: input.token } };
      const output = await git({ args: ["ls-remote", "--heads", "--", input.remoteUrl, `refs/heads/${input.branch}`], ...auth });
      const line = output.stdout.split("\n").find((entry) => entry.endsWith(`\trefs/heads/${input.branch}`));
      return line ? line.slice(0, line.indexOf("\t")) : null;
    },

    /**
     * Pushes HEAD to `refs/heads/<branch>`. Never a force push: a plain push when Tasks has not
     * pushed the branch before, else a lease on the sha Tasks pushed, so the push fails rather
     * than drop a commit someone else added.
     */
    async pushBranch(input: PushInput): Promise<{ sha: string }> {
      assertSafeBranchName(input.branch);
      const ref = `refs/heads/${input.branch}`;
      if (input.expectedRemoteSha !== null && !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(input.expectedRemoteSha)) {
        throw new AppError("invalid", "invalid_sha", "expectedRemoteSha must be a full commit sha");
      }
      const lease = input.expectedRemoteSha === null ? [] : [`--force-with-lease=${ref}:${input.expectedRemoteSha}`];
      const output = await git({
        cwd: input.repoDir,
        args: ["push", "--porcelain", "--no-verify", ...lease, "--", input.remoteUrl, `HEAD:${ref}`],
        auth: { url: input.remoteUrl, token: input.token },
        okExitCodes: [1],
      });
      const status = output.stdout.split("\n").find((line) => line.includes(`\t${ref}\t`) || line.includes(`:${ref}\t`));
      if (output.exitCode !== 0) {
        const reason = status?.split("\t")[2] ?? output.stderr.trim().split("\n").pop() ?? "rejected";
        if (status?.startsWith("!") && /rejected|stale info|fetch first|non-fast-forward/.test(reason)) {
          throw new BranchConflictError(input.branch, reason);
        }
        throw new GitCommandError("unavailable", "git_push_failed", `git push failed: ${reason}`, output);
      }
      return { sha: await text(input.repoDir, "rev-parse", "HEAD") };
    },
  };
}

function assertSha(sha: string): void {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new AppError("invalid", "invalid_sha", `not a full commit sha: ${JSON.stringify(sha)}`);
}

/** sha256 (hex) of a bundle file, streamed. */
export async function bundleSha(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function applyOrRefuse(git: GitRunner, repoDir: string, args: string[], patch: string | Uint8Array): Promise<string> {
  try {
    return (await git({ cwd: repoDir, args, stdin: patch })).stdout;
  } catch (error) {
    if (!(error instanceof GitCommandError) || error.code !== "git_failed") throw error;
    throw new AppError("unprocessable", "patch_does_not_apply", `the patch does not apply: ${error.output?.stderr.trim().split("\n").slice(0, 5).join("\n") ?? ""}`, { cause: error });
  }
}

function withCoAuthor(message: string, coAuthor: CommitInput["coAuthor"]): string {
  const body = message.replace(/\r\n?/g, "\n").replace(/\0/g, "").trimEnd();
  if (!coAuthor) return `${body}\n`;
  const name = oneLine(coAuthor.name).replace(/[<>]/g, "");
  const email = oneLine(coAuthor.email).replace(/[<>\s]/g, "");
  return `${body}\n\nCo-authored-by: ${name} <${email}>\n`;
}

function oneLine(text: string): string {
  return text.replace(/[\0\r\n]+/g, " ").trim();
}
