// End to end: a `task` label on an issue becomes a draft pull request. The real server gets
// signed webhooks; the local sandbox runs the `command` agent (a deterministic script standing
// in for the model); the remote is a real git repository served by `git http-backend`; only
// GitHub's REST API is faked, through nock.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { fakeAgentCommand } from "../fixtures/fake-agent.ts";
import { issueCommentCreated } from "../fixtures/webhooks.ts";
import { deliver, githubAppEnv } from "../helpers/github.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { createWorld as createAnyWorld, destroyWorld as destroy, git, installationToken as token, label, labelAndWait, remoteBranches, trackingComment, waitForRun, type World } from "./world.ts";

const createWorld = (agentMode: string): Promise<World> =>
  createAnyWorld({ env: { TASKS_AGENT: "command", TASKS_AGENT_COMMAND: fakeAgentCommand(agentMode) } });

describe("label → draft pull request", () => {
  let world: World | undefined;
  afterEach(async () => {
    await destroy(world);
    world = undefined;
    nock.cleanAll();
  });
  afterAll(() => nock.enableNetConnect());

  it("plans, codes, reviews and opens a draft PR from a pushed branch, with GitHub kept up to date", { timeout: 120_000 }, async () => {
    world = await createWorld("normal");
    const task = await labelAndWait(world);
    expect(task.runs[0]!.error).toBeNull();
    expect(task.status).toBe("completed");

    // The branch and commit, pushed by the control plane to the real remote.
    const branch = task.branch!;
    expect(branch).toMatch(/^tasks\/pos-1-dark-mode/);
    expect(remoteBranches(world)).toEqual([branch, "main"].sort());
    const message = git(world.bare, "log", "-1", "--format=%B", branch);
    expect(message).toContain("POS-1: Dark mode for the settings page");
    expect(message).toMatch(/Co-authored-by: octocat <\d+\+octocat@users\.noreply\.127\.0\.0\.1>/);
    expect(git(world.bare, "show", `${branch}:README.md`)).toContain("Dark mode is available in settings.");
    expect(world.remote.requests.filter((r) => r.service === "receive-pack").every((r) => r.auth === "valid" || r.method === "GET")).toBe(true);

    // The pull request.
    const [createPr] = world.github.callsTo("POST", /\/pulls$/);
    expect(createPr!.body).toMatchObject({ title: "Dark mode for the settings page", head: branch, base: "main", draft: true });
    const body = String(createPr!.body["body"]);
    expect(body).toContain("Closes #7");
    expect(body).toContain("Plan for POS-1");
    expect(body).toContain("Added a dark mode note");
    expect(task.pr_url).toBe(world.github.pulls[0]!.html_url);

    // One check run per stage on the task's own start commit (an empty commit on the branch, its
    // parent main): running, then an honest conclusion; the final ones re-posted on the PR's head.
    // None ever lands on a commit of main.
    const base = git(world.bare, "rev-parse", "main");
    const head = git(world.bare, "rev-parse", branch);
    const start = git(world.bare, "rev-parse", `${branch}~1`);
    expect(git(world.bare, "rev-parse", `${start}~1`)).toBe(base);
    expect(git(world.bare, "diff", "--name-only", base, start)).toBe("");
    expect(world.github.checkRuns.filter((run) => run.head_sha === base)).toEqual([]);
    for (const stage of ["Plan", "Code", "Review"]) {
      const onStart = world.github.checkRuns.filter((run) => run.name === `Tasks · ${stage}` && run.head_sha === start);
      expect(onStart.map((run) => run.history)).toEqual([[{ status: "in_progress", conclusion: null }, { status: "completed", conclusion: "success" }]]);
      expect(world.github.checkRuns.filter((run) => run.name === `Tasks · ${stage}` && run.head_sha === head).map((run) => run.conclusion)).toEqual(["success"]);
    }

    // The tracking comment, edited in place to its final state.
    expect(world.github.comments.get(7)).toHaveLength(1);
    const final = trackingComment(world);
    expect(final).toContain("`completed`");
    expect(final).toContain("- [x] Plan\n- [x] Code\n- [x] Review\n- [x] Complete");
    expect(final).toContain(`Pull request: ${task.pr_url}`);
    expect(final).toContain("Plan for POS-1");
    // Looked for once, before it existed; every later update is one edit of the stored comment.
    expect(world.github.callsTo("GET", /\/issues\/7\/comments/)).toHaveLength(1);
    const edits = world.github.callsTo("PATCH", /\/issues\/comments\/\d+$/);
    expect(edits.length).toBeGreaterThanOrEqual(4);
    expect(new Set(edits.map((call) => call.path))).toEqual(new Set([`/repos/posthog/posthog/issues/comments/${world.github.comments.get(7)![0]!.id}`]));

    // Tokens were minted per repository, never with workflows, and revoked.
    const mints = world.github.callsTo("POST", /access_tokens$/).map((call) => call.body).filter((b) => b["repositories"]);
    expect(mints.length).toBeGreaterThanOrEqual(2);
    for (const mint of mints) {
      expect(mint["repositories"]).toEqual(["posthog"]);
      expect(mint["permissions"]).not.toHaveProperty("workflows");
    }
    expect(world.github.callsTo("DELETE", /installation\/token$/).length).toBe(mints.length);

    // The sandbox is gone once the run ends.
    const workspaces = path.join(world.server.dataDir, "workspaces");
    expect(existsSync(workspaces) ? readdirSync(workspaces) : []).toEqual([]);
  });

  it("ends with \"no changes\" instead of an empty PR when the coder changes nothing", { timeout: 120_000 }, async () => {
    world = await createWorld("nothing");
    const task = await labelAndWait(world);
    expect(task.status).toBe("completed");
    expect(task.pr_url).toBeNull();
    expect(world.github.callsTo("POST", /\/pulls$/)).toEqual([]);
    expect(remoteBranches(world)).toEqual(["main"]);
    expect(trackingComment(world)).toContain("no changes: the coder left the repository unchanged");
  });

  it("blocks a secret-looking string before anything is pushed, saying where", { timeout: 120_000 }, async () => {
    world = await createWorld("secret");
    const task = await labelAndWait(world);
    expect(task.status).toBe("failed");
    expect(task.runs[0]!.error).toMatch(/publishing blocked: .*leaked\.js/);
    expect(remoteBranches(world)).toEqual(["main"]);
    expect(world.github.callsTo("POST", /\/pulls$/)).toEqual([]);
    expect(trackingComment(world)).toContain("**Failed:**");
  });

  it("rejects a change to .github/workflows with an explanation", { timeout: 120_000 }, async () => {
    world = await createWorld("workflow");
    const task = await labelAndWait(world);
    expect(task.status).toBe("failed");
    expect(task.runs[0]!.error).toContain("the change touches protected paths");
    expect(task.runs[0]!.error).toContain(".github/workflows/evil.yml");
    expect(remoteBranches(world)).toEqual(["main"]);
    // The refusal says which path and why where people look: the tracking comment and the check run.
    expect(trackingComment(world)).toMatch(/\*\*Failed:\*\* failed in Complete: publishing refused: the change touches protected paths.*\.github\/workflows\/evil\.yml.*CI workflow/s);
    const complete = world.github.checkRuns.find((run) => run.name === "Tasks · Complete" && run.conclusion === "failure");
    expect(JSON.stringify(complete?.output)).toContain(".github/workflows/evil.yml");
  });

  it("never puts a check run on a commit of main, not even for a task that fails in Plan, and leaves no branch behind", { timeout: 120_000 }, async () => {
    world = await createWorld("plan-fails");
    const main = git(world.bare, "rev-parse", "main");
    const task = await labelAndWait(world);
    expect(task.status).toBe("failed");
    expect(task.runs[0]!.error).toContain("failed in Plan");
    const plan = world.github.checkRuns.filter((run) => run.name === "Tasks · Plan");
    expect(plan.map((run) => run.conclusion)).toEqual(["failure"]);
    // The run's own start commit carried it: an empty commit on main, never main itself.
    expect(plan[0]!.head_sha).not.toBe(main);
    expect(world.github.checkRuns.filter((run) => run.head_sha === main)).toEqual([]);
    expect(git(world.bare, "rev-parse", `${plan[0]!.head_sha}~1`)).toBe(main);
    // Nothing but the start commit was pushed, so cleanup deleted the branch.
    await waitFor(async () => remoteBranches(world!).length === 1, "the task branch to be deleted");
    expect(remoteBranches(world)).toEqual(["main"]);
  });

  it("never lets a token reach the agent: its dump of env, /proc/*/environ, git config and files holds none", { timeout: 120_000 }, async () => {
    world = await createWorld("dump");
    const task = await labelAndWait(world);
    expect(task.status).toBe("completed");
    const branch = task.branch!;
    const dump = git(world.bare, "show", `${branch}:dump.txt`);
    expect(dump.length).toBeGreaterThan(100);
    for (const secret of [token, Buffer.from(`x-access-token:${token}`).toString("base64"), "BEGIN RSA PRIVATE KEY", githubAppEnv.WEBHOOK_SECRET, "test-admin-token"]) {
      expect(dump).not.toContain(secret);
    }
    const events = await world.server.db.prisma.taskEvent.findMany({ where: { taskId: task.id } });
    expect(JSON.stringify(events.map((event) => ({ ...event, id: String(event.id) })))).not.toContain(token);
  });

  it("cancels a running agent: no process and no sandbox are left, and the check run says cancelled", { timeout: 120_000 }, async () => {
    world = await createWorld("hang");
    const task = await label(world);
    const running = () => {
      try {
        return execFileSync("pgrep", ["-f", "^sleep 997$"], { encoding: "utf8" }).trim();
      } catch {
        return "";
      }
    };
    for (let i = 0; i < 1200 && !running(); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(running()).not.toBe("");
    const cancel = await fetch(`${world.server.url}/api/admin/tasks/${task.id}/cancel`, { method: "POST", headers: { authorization: "Bearer test-admin-token-0123456789abcdef" } });
    expect(cancel.status).toBe(200);
    const done = await waitForRun(world, task.id);
    expect(done.status).toBe("cancelled");
    expect(running()).toBe("");
    const workspaces = path.join(world.server.dataDir, "workspaces");
    expect(existsSync(workspaces) ? readdirSync(workspaces) : []).toEqual([]);
    const code = world.github.checkRuns.find((run) => run.name === "Tasks · Code")!;
    expect(code.history.at(-1)).toEqual({ status: "completed", conclusion: "cancelled" });
    expect(trackingComment(world)).toContain("`cancelled`");
  });

  it("a /task comment on the PR runs a follow-up that pushes to the same branch and reuses the PR", { timeout: 120_000 }, async () => {
    world = await createWorld("normal");
    const first = await labelAndWait(world);
    const branch = first.branch!;
    const firstHead = git(world.bare, "rev-parse", branch);
    const prNumber = world.github.pulls[0]!.number;

    const comment = issueCommentCreated("/task make the header follow the theme too", { issue: { number: prNumber, pullRequest: true } });
    ((comment["issue"] as Record<string, unknown>)["pull_request"] as Record<string, unknown>)["html_url"] = first.pr_url;
    expect((await deliver(world.server.url, { event: "issue_comment", payload: comment })).status).toBe(202);
    await world.server.webhooksIdle();
    const second = await waitForRun(world, first.id, 2);

    expect(second.status).toBe("completed");
    expect(second.branch).toBe(branch);
    // The follow-up's own start commit (its check runs live there) sits on the first run's head.
    expect(git(world.bare, "rev-parse", `${branch}~2`)).toBe(firstHead);
    const followupStart = git(world.bare, "rev-parse", `${branch}~1`);
    expect(git(world.bare, "diff", "--name-only", firstHead, followupStart)).toBe("");
    expect(world.github.checkRuns.filter((run) => run.head_sha === followupStart).map((run) => run.name).sort()).toEqual(["Tasks · Code", "Tasks · Review"]);
    expect(git(world.bare, "show", `${branch}:README.md`)).toContain("The header follows the theme too.");
    expect(world.github.callsTo("POST", /\/pulls$/)).toHaveLength(1);
    expect(world.github.callsTo("PATCH", /\/pulls\/\d+$/).length).toBeGreaterThanOrEqual(1);
    expect(second.pr_url).toBe(first.pr_url);
  });

  it("keeps hostile titles out of every shell: the branch name is safe and nothing runs", { timeout: 120_000 }, async () => {
    world = await createWorld("normal");
    const pwned = path.join(world.root, "pwned");
    const title = `$(touch ${pwned}) \`touch ${pwned}\` ";touch ${pwned};# line\nbreak\u3000wide`;
    const task = await labelAndWait(world, title);
    expect(task.status).toBe("completed");
    expect(existsSync(pwned)).toBe(false);
    expect(task.branch).toMatch(/^tasks\/pos-1-[a-z0-9-]+$/);
    expect(() => execFileSync("git", ["check-ref-format", "--branch", task.branch!])).not.toThrow();
  });
});
