// What the control plane's git reports when it cannot even start: a missing working directory
// is named as such (Node reports it as a missing program), and a missing git stays that.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createGit } from "../../src/git/git.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";

describe("git runner errors", () => {
  const root = mkdtempSync(path.join(tmpdir(), "tasks-git-runner-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const runGit = createGitRunner({ env: process.env });

  it("names a working directory that does not exist, not git", async () => {
    const dir = path.join(root, "repos", "run-1");
    const missing = runGit({ cwd: dir, args: ["rev-parse", "--verify", "HEAD"] });
    await expect(missing).rejects.toMatchObject({ code: "git_cwd_missing", kind: "unavailable", message: `git rev-parse could not run: the directory ${dir} does not exist` });
    await expect(createGit({ env: process.env }).headSha(dir)).rejects.toThrow(`the directory ${dir} does not exist`);
  });

  it("names a working directory that is a file", async () => {
    const file = path.join(root, "a-file");
    writeFileSync(file, "x");
    await expect(runGit({ cwd: file, args: ["status"] })).rejects.toMatchObject({ code: "git_cwd_missing", message: `git status could not run: ${file} is not a directory` });
  });

  it("still says git is missing when it is", async () => {
    const noGit = createGitRunner({ env: { PATH: path.join(root, "empty-bin") } });
    await expect(noGit({ cwd: root, args: ["--version"] })).rejects.toMatchObject({ code: "git_missing", message: "git is not installed or not on PATH" });
    await expect(noGit({ args: ["--version"] })).rejects.toMatchObject({ code: "git_missing" });
  });

});
