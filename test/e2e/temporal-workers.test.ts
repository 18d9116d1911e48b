// End to end on Temporal, with the processes production runs: the web process only takes signed
// webhooks and starts workflows; separate worker processes (the real src/temporal/worker.ts)
// run the stages in the local sandbox with the `command` agent, push to a real git remote and
// open the draft pull request on a GitHub they reach over HTTP. Workers can die: a SIGKILLed
// worker's step is retried on another, and two workers share a batch without doing a task twice.
// PostgreSQL only: the web process and the workers share the database.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { decodeTimeoutType } from "@temporalio/common";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { taskWorkflowId } from "../../src/temporal/workflow-id.ts";
import { fakeAgentCommand } from "../fixtures/fake-agent.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { temporalTestServer } from "../temporal/temporal-server.ts";
import { createTemporalWorld, destroyTemporalWorld, label, pushes, remoteBranches, shortHeartbeatWorker, startWorker, stopWorker, trackingComments, waitForRun, type TemporalWorld } from "./temporal-world.ts";
import { git } from "./world.ts";

const temporal = temporalTestServer(process.env);

/** The coder's first attempt marks its checkout and hangs; a retry in the same checkout codes normally. */
const attemptMark = ".git/tasks-e2e-coder-attempted";
const hangOnceCommand = `if [ "$TASK_ROLE" = coder ] && [ ! -e ${attemptMark} ]; then : > ${attemptMark}; exec sleep 996; fi\n${fakeAgentCommand("normal")}`;

function sandboxProcessRunning(): boolean {
  try {
    return execFileSync("pgrep", ["-f", "sleep 996"], { encoding: "utf8" }).trim() !== "";
  } catch {
    return false;
  }
}

const darkModeLine = "Dark mode is available in settings.";

describe.skipIf(temporal.skip)("label → draft pull request on Temporal workers", () => {
  let env: TestWorkflowEnvironment;
  let world: TemporalWorld | undefined;
  beforeAll(async () => {
    env = await temporal.open();
  }, 60_000);
  afterAll(async () => {
    await env?.teardown();
  });
  afterEach(async () => {
    await destroyTemporalWorld(world);
    world = undefined;
  });

  const newWorld = (agentCommand = fakeAgentCommand("normal")) => createTemporalWorld({ temporalAddress: env.address, agentCommand });
  const identity = (pid: number) => `${pid}@${hostname()}`;
  /** Who ran each activity attempt of a task's workflow, as Temporal recorded it. */
  async function activityStarts(taskId: string) {
    const history = await env.client.workflow.getHandle(taskWorkflowId({ taskId, attempt: 1 })).fetchHistory();
    return (history.events ?? []).flatMap((event) => (event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes] : []));
  }

  /** Each stage's check run on the run's start commit (the branch's first, on main) and on the PR's head; none on main. */
  function expectCompletedChecks(w: TemporalWorld, branch: string) {
    const base = git(w.bare, "rev-parse", "main");
    const head = git(w.bare, "rev-parse", branch);
    const start = git(w.bare, "rev-parse", `${branch}~1`);
    expect(git(w.bare, "rev-parse", `${start}~1`)).toBe(base);
    expect(w.github.checkRuns.filter((run) => run.head_sha === base)).toEqual([]);
    for (const stage of ["Plan", "Code", "Review"]) {
      for (const sha of [start, head]) {
        const runs = w.github.checkRuns.filter((run) => run.name === `Tasks · ${stage}` && run.head_sha === sha);
        expect(runs.map((run) => [run.status, run.conclusion])).toEqual([["completed", "success"]]);
      }
    }
  }

  it("a signed label webhook to the web process becomes a draft PR made by a separate worker", { timeout: 180_000 }, async () => {
    world = await newWorld();
    const worker = await startWorker(world);
    const created = await label(world, 7);
    const task = await waitForRun(world, env.client, created.id, 150_000);
    expect(task.runs[0]!.error).toBeNull();
    expect(task.status).toBe("completed");

    const branch = task.branch!;
    expect(branch).toMatch(/^tasks\/pos-1-dark-mode/);
    expect(remoteBranches(world)).toEqual([branch, "main"].sort());
    expect(git(world.bare, "show", `${branch}:README.md`)).toContain(darkModeLine);
    expect(git(world.bare, "log", "-1", "--format=%B", branch)).toContain("POS-1: Dark mode for the settings page");
    // The run's start commit, then the change.
    expect(pushes(world).map((push) => push.auth)).toEqual(["valid", "valid"]);

    expect(world.github.pulls).toHaveLength(1);
    expect(world.github.pulls[0]).toMatchObject({ head: branch, base: "main", draft: true, title: "Dark mode for the settings page" });
    expect(task.pr_url).toBe(world.github.pulls[0]!.html_url);
    expectCompletedChecks(world, branch);

    const [tracking, ...others] = trackingComments(world, 7);
    expect(others).toEqual([]);
    expect(tracking!.body).toContain("`completed`");
    expect(tracking!.body).toContain(`Pull request: ${task.pr_url}`);

    // Every step ran in the worker process; the web process has no worker.
    expect(new Set((await activityStarts(task.id)).map((start) => start.identity))).toEqual(new Set([identity(worker.pid)]));
    const workspaces = path.join(world.workerEnv["TASKS_DATA_DIR"]!, "workspaces");
    expect(existsSync(workspaces) ? readdirSync(workspaces) : []).toEqual([]);
  });

  it("a worker SIGKILLed in the middle of the Code stage: another worker retries the step and the task completes once", { timeout: 240_000 }, async () => {
    world = await newWorld(hangOnceCommand);
    const dataDir = world.workerEnv["TASKS_DATA_DIR"]!;
    const doomed = await startWorker(world, { entry: shortHeartbeatWorker });
    const created = await label(world, 7);

    // The coder is running (its mark is in the sandbox's checkout) when the worker dies.
    const marked = () => {
      const workspaces = path.join(dataDir, "workspaces");
      return existsSync(workspaces) && readdirSync(workspaces).some((id) => existsSync(path.join(workspaces, id, "repo", attemptMark)));
    };
    await waitFor(async () => marked(), "the coder running", 90_000);
    expect(await stopWorker(doomed, "SIGKILL")).toBeNull();
    // Nothing the dead worker started in its sandbox outlives it.
    await waitFor(async () => !sandboxProcessRunning(), "the dead worker's agent gone");

    const successor = await startWorker(world, { entry: shortHeartbeatWorker });
    const task = await waitForRun(world, env.client, created.id, 200_000);
    expect(task.runs[0]!.error).toBeNull();
    expect(task.status).toBe("completed");

    const branch = task.branch!;
    expect(remoteBranches(world)).toEqual([branch, "main"].sort());
    expect(pushes(world)).toHaveLength(2);
    // The retried coder continued in the same checkout, and coded once.
    expect(git(world.bare, "show", `${branch}:README.md`).split(darkModeLine)).toHaveLength(2);
    expect(world.github.pulls.map((pull) => pull.head)).toEqual([branch]);
    expect(task.pr_url).toBe(world.github.pulls[0]!.html_url);
    expectCompletedChecks(world, branch);
    const tracking = trackingComments(world, 7);
    expect(tracking).toHaveLength(1);
    expect(tracking[0]!.body).toContain("`completed`");

    // Temporal noticed the missing heartbeat and gave the step's second attempt to the successor.
    const retried = (await activityStarts(task.id)).filter((start) => start.attempt === 2);
    expect(retried.map((start) => [start.identity, decodeTimeoutType(start.lastFailure?.timeoutFailureInfo?.timeoutType)])).toEqual([[identity(successor.pid), "HEARTBEAT"]]);
    const workspaces = path.join(dataDir, "workspaces");
    expect(existsSync(workspaces) ? readdirSync(workspaces) : []).toEqual([]);
  });

  it("two workers share a batch of ten tasks and every task completes exactly once", { timeout: 300_000 }, async () => {
    world = await newWorld();
    const w = world;
    const workers = await Promise.all([startWorker(w), startWorker(w)]);
    const issues = Array.from({ length: 10 }, (_, index) => index + 1);
    const created = await Promise.all(issues.map((issue) => label(w, issue, `Batch item ${issue}`)));
    const tasks = await Promise.all(created.map((task) => waitForRun(w, env.client, task.id, 260_000)));

    expect(tasks.map((task) => task.status)).toEqual(issues.map(() => "completed"));
    const branches = tasks.map((task) => task.branch!);
    expect(new Set(branches).size).toBe(10);
    expect(remoteBranches(w)).toEqual([...branches, "main"].sort());
    expect(pushes(w)).toHaveLength(20);
    expect(w.github.pulls.map((pull) => pull.head).sort()).toEqual([...branches].sort());
    expect(tasks.map((task) => task.pr_url).sort()).toEqual(w.github.pulls.map((pull) => pull.html_url).sort());
    for (const issue of issues) {
      const tracking = trackingComments(w, issue);
      expect(tracking).toHaveLength(1);
      expect(tracking[0]!.body).toContain("`completed`");
    }
    for (const branch of branches) expect(git(w.bare, "show", `${branch}:README.md`).split(darkModeLine)).toHaveLength(2);

    // Both workers took part.
    const starts = (await Promise.all(tasks.map((task) => activityStarts(task.id)))).flat();
    expect(new Set(starts.map((start) => start.identity))).toEqual(new Set(workers.map((worker) => identity(worker.pid))));
  });
});
