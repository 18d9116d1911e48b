// #12 GitHub writes under load, through the real server and Probot's real Octokit (throttling on,
// the per-installation write scheduler in front), against the GitHub stand-in on loopback: a new
// trigger's acknowledgement is not stuck behind running tasks' progress, superseded progress is
// never sent, and GitHub's secondary limit slows the app down without losing or looping.
import { afterEach, describe, expect, it } from "vitest";
import { createGitHubClients } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";
import { writeHint } from "../../src/github/write-hint.ts";
import { installationEvent, issuesLabeled } from "../fixtures/webhooks.ts";
import { allowOnlyLocalhost, appPrivateKey, deliver, githubAppEnv } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startFakeGitHub, type FakeGitHubCall, type FakeGitHubServer } from "../inbox/fake-github-server.ts";

const owner = "posthog";
const repo = "posthog";

let fake: FakeGitHubServer | undefined;
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  await fake?.close();
  server = fake = undefined;
});

const gheEnv = (github: FakeGitHubServer) => ({ ...githubAppEnv, GHE_HOST: github.host, GHE_PROTOCOL: "http" });

/** The control plane's client for an installation, as a running task's activities get it. */
function controlPlaneClient(github: FakeGitHubServer, installationId: number) {
  const config = loadConfig({ ...gheEnv(github), TASKS_DATA_DIR: "/tmp/tasks-write-priority-unused" });
  return createGitHubClients(config, appPrivateKey)!.auth(installationId);
}

/** A running task's tracking comment and check run, as the stand-in holds them. */
function runningTask(github: FakeGitHubServer, n: number) {
  const issue = 100 + n;
  const commentId = 5000 + n;
  const checkRunId = 6000 + n;
  github.comments.set(issue, [{ id: commentId, body: "started", user: { login: "tasks[bot]", type: "Bot" } }]);
  github.checkRuns.push({ id: checkRunId, name: "Tasks · Code", head_sha: "a".repeat(40), external_id: `task-${n}`, status: "in_progress", conclusion: null, output: {}, history: [] });
  return { issue, commentId, checkRunId };
}

const isProgress = (call: FakeGitHubCall) => call.method === "PATCH" && /\/(issues\/comments|check-runs)\/\d+$/.test(call.path);
const progressText = (call: FakeGitHubCall) => String(call.body["body"] ?? (call.body["output"] as { summary?: string } | undefined)?.summary);

describe("GitHub writes under load", () => {
  it("a new trigger's 👀 and tracking comment go out before queued progress updates of running tasks, and superseded progress updates are never sent", { timeout: 90_000 }, async () => {
    allowOnlyLocalhost();
    fake = await startFakeGitHub();
    server = await startTestServer("pglite", { env: gheEnv(fake) });
    await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: [`${owner}/${repo}`] }) });
    await server.webhooksIdle();

    // Six running tasks report progress: each edits its tracking comment and its check run four
    // times in quick succession, as stage after stage is entered.
    const octokit = await controlPlaneClient(fake, 4242);
    const tasks = [1, 2, 3, 4, 5, 6].map((n) => runningTask(fake!, n));
    const versions = [1, 2, 3, 4];
    const progress: Promise<string>[] = [];
    for (const version of versions) {
      for (const task of tasks) {
        const comment = `comment ${task.commentId} v${version}`;
        const summary = `check run ${task.checkRunId} v${version}`;
        progress.push(octokit.rest.issues.updateComment({ owner, repo, comment_id: task.commentId, body: comment, ...writeHint("progress", `comment:${task.commentId}`) }).then(({ data }) => `${comment} → ${data.body}`));
        progress.push(
          octokit.rest.checks
            .update({ owner, repo, check_run_id: task.checkRunId, output: { title: "Code", summary }, ...writeHint("progress", `check-run:${task.checkRunId}`) })
            .then(({ data }) => `${summary} → ${data.output.summary}`),
        );
      }
    }

    // Meanwhile someone labels issue 7.
    const delivered = await deliver(server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: 7 } }) });
    expect(delivered.status).toBe(202);
    const progressBeforeTrigger = fake.calls.filter(isProgress).length;
    await server.webhooksIdle();
    const settled = await Promise.all(progress);

    const calls = fake.calls;
    const eyes = calls.findIndex((call) => call.method === "POST" && call.path === `/repos/${owner}/${repo}/issues/7/reactions`);
    const tracking = calls.findIndex((call) => call.method === "POST" && call.path === `/repos/${owner}/${repo}/issues/7/comments`);
    expect(eyes).toBeGreaterThanOrEqual(0);
    expect(tracking).toBeGreaterThan(eyes);
    const progressSent = calls.filter(isProgress);
    const places = 2 * tasks.length;
    // The backlog (a write to each of 12 places, 750 ms apart) outlasts the handler: ahead of the
    // acknowledgements went only what was sent before the trigger came and what the handler's own
    // reads and database work let through; at least half of the backlog waited behind them.
    const progressAfterTracking = calls.slice(tracking).filter(isProgress).length;
    expect(progressAfterTracking).toBeGreaterThanOrEqual((places - progressBeforeTrigger) / 2);

    // Latest state wins: of 48 updates to 12 places, each place got its newest version, and nothing
    // older was sent except a first update already on its way when the newer ones were queued.
    expect(progressSent.length).toBeLessThanOrEqual(places + 1);
    const stale = progressSent.filter((call) => !progressText(call).endsWith(" v4"));
    expect(stale.length).toBeLessThanOrEqual(1);
    for (const task of tasks) {
      expect(fake.comments.get(task.issue)![0]!.body).toBe(`comment ${task.commentId} v4`);
      expect(fake.checkRuns.find((run) => run.id === task.checkRunId)!.output["summary"]).toBe(`check run ${task.checkRunId} v4`);
    }
    // Every caller got an answer: a superseded one the newer write's outcome.
    const answeredWithNewest = settled.filter((line) => line.endsWith(" v4"));
    expect(answeredWithNewest.length).toBeGreaterThanOrEqual(settled.length - 1);
    expect(fake.refused).toEqual([]);
  });

  it("with the stand-in's secondary limit on, the app slows down without losing an update or looping", { timeout: 150_000 }, async () => {
    allowOnlyLocalhost();
    const limit = 5;
    fake = await startFakeGitHub({ secondaryLimitPerMinute: limit });
    server = await startTestServer("pglite", { env: gheEnv(fake) });
    const octokit = await controlPlaneClient(fake, 4343);
    // Ten running tasks each report progress on their check run: twice GitHub's limit.
    const tasks = Array.from({ length: 2 * limit }, (_, n) => runningTask(fake!, n + 1));
    const updates = tasks.map((task) =>
      octokit.rest.checks.update({ owner, repo, check_run_id: task.checkRunId, output: { title: "Code", summary: `check run ${task.checkRunId} done` }, ...writeHint("progress", `check-run:${task.checkRunId}`) }),
    );
    const answers = await Promise.all(updates);

    // Nothing lost: every update arrived, once, and is what GitHub shows.
    expect(answers.map((answer) => answer.status)).toEqual(tasks.map(() => 200));
    const arrived = fake.calls.filter(isProgress).map((call) => call.path);
    expect(arrived.toSorted()).toEqual(tasks.map((task) => `/repos/${owner}/${repo}/check-runs/${task.checkRunId}`).toSorted());
    for (const task of tasks) expect(fake.checkRuns.find((run) => run.id === task.checkRunId)!.output["summary"]).toBe(`check run ${task.checkRunId} done`);
    // No loop: after GitHub's first refusal the installation's queue waited as told instead of
    // sending its other writes into the limit (at most one more refusal, at the window's edge).
    expect(fake.refused.length).toBeGreaterThanOrEqual(1);
    expect(fake.refused.length).toBeLessThanOrEqual(2);
  });
});
