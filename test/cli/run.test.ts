// `tasks run --repo-path`: the whole pipeline in the CLI's own process against a local git
// repository, with the deterministic `command` agent. The result is a branch in that
// repository; the person's checked-out branch and working tree stay as they were.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fakeAgentCommand } from "../fixtures/fake-agent.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson, runCli } from "./run-cli.ts";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } }).trim();

// A whole run takes a few seconds alone, longer beside the other test files.
describe("tasks run on a local repository", { timeout: 60_000 }, () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "tasks-run-"));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  /** A repository on `main` with one commit, plus an uncommitted edit and an untracked file of the person's own. */
  async function createRepo(name: string): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    git(dir, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(dir, "README.md"), "# My app\n");
    git(dir, "add", "README.md");
    git(dir, "-c", "user.name=Me", "-c", "user.email=me@example.com", "commit", "--quiet", "-m", "readme");
    await writeFile(path.join(dir, "README.md"), "# My app\n\nwork in progress\n");
    await writeFile(path.join(dir, "notes.txt"), "mine\n");
    return dir;
  }

  const tasks = (args: string[], agentCommand = fakeAgentCommand()) =>
    runCli(["run", ...args], { TASKS_AGENT: "command", TASKS_AGENT_COMMAND: agentCommand, TASKS_DATA_DIR: path.join(root, "data"), TASKS_SANDBOX: "local" }, 50_000);

  const taskBranches = (dir: string) => git(dir, "for-each-ref", "--format=%(refname:short)", "refs/heads/tasks/");

  it("leaves a branch with the change and prints the pull request text", async () => {
    const dir = await createRepo("my-app");
    const before = { head: git(dir, "rev-parse", "HEAD"), status: git(dir, "status", "--porcelain") };

    const result = await tasks(["--repo-path", dir, "--title", "Add dark mode note"]);

    expect(result.stderr).toContain("entered Code");
    expect(result.code).toBe(0);
    const branch = "tasks/loc-1-add-dark-mode-note";
    expect(taskBranches(dir)).toBe(branch);
    expect(git(dir, "show", `${branch}:README.md`)).toBe("# My app\n\nDark mode is available in settings.");
    expect(git(dir, "log", "-1", "--format=%s", branch)).toBe("LOC-1: Add dark mode note");
    expect(git(dir, "rev-parse", `${branch}~1`)).toBe(before.head);
    // The person's side is as it was: same branch, same commit, same uncommitted work.
    expect(git(dir, "symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(git(dir, "rev-parse", "HEAD")).toBe(before.head);
    expect(git(dir, "status", "--porcelain")).toBe(before.status);

    expect(result.stdout).toContain(`branch      ${branch}`);
    expect(result.stdout).toContain("# Add dark mode note");
    expect(result.stdout).toContain("## Summary\n\nAdded a dark mode note (normal).");
    expect(result.stdout).toContain("Opened by Tasks for LOC-1.");
  });

  it("prints one JSON object with --json", async () => {
    const dir = await createRepo("json-app");
    const result = await tasks(["--repo-path", dir, "--title", "Add dark mode note", "--description", "In the README.", "--json"]);
    expect(result.code).toBe(0);
    const output = parseJson<{ status: string; branch: string; stage: string; pr: { title: string; body: string } }>(result);
    expect(output).toMatchObject({ status: "completed", branch: "tasks/loc-1-add-dark-mode-note", stage: "complete", pr: { title: "Add dark mode note" } });
    expect(output.pr.body).toContain("<!-- tasks:pull-request LOC-1 -->");
  });

  it("blocks publishing when the change holds a secret, and creates no branch", async () => {
    const dir = await createRepo("secret-app");
    const result = await tasks(["--repo-path", dir, "--title", "Add dark mode note"], fakeAgentCommand("secret"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/tasks: failed in Complete: publishing blocked: the changes look like they contain secrets/);
    expect(taskBranches(dir)).toBe("");
    expect(git(dir, "symbolic-ref", "--short", "HEAD")).toBe("main");
  });

  it("stops at once, naming what to install, when the configured agent CLI is not on PATH", async () => {
    const dir = await createRepo("no-cli");
    const result = await runCli(["run", "--repo-path", dir, "--title", "x"], { TASKS_AGENT: "claude", ANTHROPIC_API_KEY: "sk-ant-x", TASKS_DATA_DIR: path.join(root, "data"), PATH: "/usr/bin:/bin" }, 30_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("TASKS_AGENT=claude runs `claude`, which is not on the server's PATH; install it (npm install -g @anthropic-ai/claude-code)");
    expect(taskBranches(dir)).toBe("");
  });

  it("refuses a directory that is not a git repository, or a repository without commits", async () => {
    const plain = path.join(root, "plain");
    await mkdir(plain, { recursive: true });
    const empty = path.join(root, "empty");
    await mkdir(empty, { recursive: true });
    git(empty, "init", "--quiet");
    const [notRepo, noCommits, missing, noTitle] = await Promise.all([
      tasks(["--repo-path", plain, "--title", "x"]),
      tasks(["--repo-path", empty, "--title", "x"]),
      tasks(["--repo-path", path.join(root, "nowhere"), "--title", "x"]),
      tasks(["--repo-path", plain]),
    ]);
    expect(notRepo).toMatchObject({ code: 2, stdout: "", stderr: `tasks: --repo-path ${plain} is not a git repository (run "git init" and commit first)\n` });
    expect(noCommits).toMatchObject({ code: 2, stderr: `tasks: --repo-path ${empty} has no commits yet: commit something first\n` });
    expect(missing).toMatchObject({ code: 2, stderr: `tasks: --repo-path ${path.join(root, "nowhere")} is not a directory\n` });
    expect(noTitle).toMatchObject({ code: 2, stderr: "tasks: missing --title <title>\n" });
  });
});
