// #11 hardening, GitHub faults: what GitHub does to a busy app (rate limits with `retry-after`,
// a 502 after it already acted, a token that stops working, the App uninstalled mid-task) must
// end in one correct result, never a tight loop, a duplicate or a stuck task. GitHub's REST API is
// mocked at the edge with nock; the clients are the control plane's own (createGitHubClients),
// with Probot's real Octokit: throttling, retries and token cache all on.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createGitHubClients } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";
import { openOrReusePullRequest } from "../../src/github/pull-requests.ts";
import type { RetryAfterOptions } from "../../src/github/retry-after.ts";
import { createWriteSchedulers } from "../../src/github/write-scheduler.ts";
import { fakeAgentCommand } from "../fixtures/fake-agent.ts";
import { installationEvent } from "../fixtures/webhooks.ts";
import { createWorld, destroyWorld, label, waitForRun, type World } from "../e2e/world.ts";
import { allowOnlyLocalhost, appPrivateKey, deliver, githubAppEnv, TestOctokit } from "../helpers/github.ts";

const api = "https://api.github.com";
// Octokit's throttling queues are per installation and shared by every client in the process, and
// they keep time by Date: each test gets an installation of its own, so a faked clock cannot hold
// back a later test's requests.
let installationId = 4000;
const repoPath = "/repos/posthog/posthog";
const config = loadConfig({ ...githubAppEnv, TASKS_DATA_DIR: "/tmp/tasks-github-faults-unused" });

/**
 * Production's Octokit with one change: the rate-limit wait is recorded instead of slept, for reads
 * (retry-after.ts) and for writes (the write scheduler, whose clock moves on by what it "slept").
 */
function recordingOctokit(waits: number[]): typeof ProbotOctokit {
  const retryAfter: RetryAfterOptions = { sleep: async (ms) => void waits.push(ms) };
  const start = Date.now();
  let slept = 0;
  const writeSchedulers = createWriteSchedulers({
    now: () => start + slept,
    sleep: async (ms) => {
      waits.push(ms);
      slept += ms;
    },
  });
  return ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, retryAfter, writeSchedulers }));
}

/** The control plane's client for the installation, as an activity gets it. */
async function installationClient(waits: number[] = []) {
  const clients = createGitHubClients(config, appPrivateKey, recordingOctokit(waits))!;
  return clients.auth(installationId);
}

/** GitHub's token endpoint, minting the given tokens in turn; `minted` counts the calls. */
function tokenEndpoint(tokens: string[]) {
  const minted: string[] = [];
  nock(api)
    .post(`/app/installations/${installationId}/access_tokens`)
    .times(tokens.length)
    .reply(() => {
      const token = tokens[minted.length]!;
      minted.push(token);
      return [201, { token, expires_at: "2999-01-01T00:00:00Z", permissions: { issues: "write", pull_requests: "write" }, repository_selection: "all" }];
    });
  return minted;
}

const secondaryLimit = { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api" };

beforeEach(() => {
  installationId += 1;
  allowOnlyLocalhost();
});
afterEach(() => {
  vi.useRealTimers();
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe("rate limits: the app waits as GitHub says, then tries again (no tight loop)", () => {
  /** An issue comment endpoint answering `answers` in turn; returns the number of requests it saw. */
  function commentEndpoint(answers: [number, object, Record<string, string>?][]) {
    const seen = { count: 0 };
    nock(api)
      .post(`${repoPath}/issues/7/comments`)
      .times(answers.length)
      .reply(() => answers[seen.count++]!);
    return seen;
  }
  const comment = async (waits: number[]) => (await installationClient(waits)).rest.issues.createComment({ owner: "posthog", repo: "posthog", issue_number: 7, body: "hello" });

  it("a 403 secondary rate limit with retry-after: 7 is retried once, after 7 seconds", async () => {
    tokenEndpoint(["ghs_a"]);
    const seen = commentEndpoint([[403, secondaryLimit, { "retry-after": "7" }], [201, { id: 1 }]]);
    const waits: number[] = [];
    const { data } = await comment(waits);
    expect(data.id).toBe(1);
    expect(seen.count).toBe(2);
    expect(waits).toEqual([7_000]);
  });

  it("a 429 with retry-after: 3 is retried once, after 3 seconds (not Octokit's own 1-second retry)", async () => {
    tokenEndpoint(["ghs_a"]);
    const seen = commentEndpoint([[429, { message: "Too Many Requests" }, { "retry-after": "3" }], [201, { id: 2 }]]);
    const waits: number[] = [];
    const { data } = await comment(waits);
    expect(data.id).toBe(2);
    expect(seen.count).toBe(2);
    expect(waits).toEqual([3_000]);
  });

  it("a rate limit that never lifts ends in an error after a bounded number of waited retries", async () => {
    tokenEndpoint(["ghs_a"]);
    const limited: [number, object, Record<string, string>] = [429, { message: "Too Many Requests" }, { "retry-after": "2" }];
    const seen = commentEndpoint([limited, limited, limited, limited]);
    const waits: number[] = [];
    await expect(comment(waits)).rejects.toMatchObject({ status: 429 });
    expect(seen.count).toBe(4);
    expect(waits).toEqual([2_000, 2_000, 2_000]);
  });

  it("a wait longer than the app will block a step for is not slept: the step's own retries take over", async () => {
    tokenEndpoint(["ghs_a"]);
    const seen = commentEndpoint([[403, secondaryLimit, { "retry-after": "3600" }]]);
    const waits: number[] = [];
    await expect(comment(waits)).rejects.toMatchObject({ status: 403 });
    expect(seen.count).toBe(1);
    expect(waits).toEqual([]);
  });

  it("a primary rate limit (remaining 0) waits until its reset", async () => {
    tokenEndpoint(["ghs_a"]);
    const reset = String(Math.floor(Date.now() / 1000) + 600);
    const seen = commentEndpoint([[403, { message: "API rate limit exceeded" }, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset }], [201, { id: 3 }]]);
    const waits: number[] = [];
    await comment(waits);
    expect(seen.count).toBe(2);
    expect(waits).toHaveLength(1);
    // Until the reset, and a second more (give or take the seconds this test took).
    expect(waits[0]).toBeGreaterThanOrEqual(590_000);
    expect(waits[0]).toBeLessThanOrEqual(601_000);
  });
});

describe("an installation token that expires mid-task", () => {
  it("is replaced after GitHub answers 401 Bad credentials, and the work goes on", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const minted = tokenEndpoint(["ghs_first", "ghs_second"]);
    const used: string[] = [];
    nock(api)
      .get(repoPath)
      .times(3)
      .reply(function () {
        const token = String(this.req.headers["authorization"]).replace(/^token /, "");
        used.push(token);
        return token === "ghs_first" && used.length > 1 ? [401, { message: "Bad credentials" }] : [200, { full_name: "posthog/posthog", default_branch: "main" }];
      });
    const octokit = await installationClient();
    expect((await octokit.rest.repos.get({ owner: "posthog", repo: "posthog" })).data.default_branch).toBe("main");
    // Twenty minutes into a long task, GitHub stops accepting the token Octokit still has cached.
    vi.setSystemTime(Date.now() + 20 * 60_000);
    expect((await octokit.rest.repos.get({ owner: "posthog", repo: "posthog" })).data.default_branch).toBe("main");
    expect(minted).toEqual(["ghs_first", "ghs_second"]);
    expect(used).toEqual(["ghs_first", "ghs_first", "ghs_second"]);
  });

  it("a 401 that a fresh token does not cure is reported, not retried forever", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const minted = tokenEndpoint(["ghs_first", "ghs_second"]);
    const used: string[] = [];
    nock(api)
      .get(repoPath)
      .times(4)
      .reply(function () {
        used.push(String(this.req.headers["authorization"]).replace(/^token /, ""));
        // Each answer comes a minute later, so Octokit's own wait for a new token to replicate ends.
        vi.setSystemTime(Date.now() + 60_000);
        return used.length === 1 ? [200, { full_name: "posthog/posthog", default_branch: "main" }] : [401, { message: "Bad credentials" }];
      });
    const octokit = await installationClient();
    await octokit.rest.repos.get({ owner: "posthog", repo: "posthog" });
    await expect(octokit.rest.repos.get({ owner: "posthog", repo: "posthog" })).rejects.toMatchObject({ status: 401 });
    expect(minted).toEqual(["ghs_first", "ghs_second"]);
    // One refresh; the fresh token's second try is Octokit's own replication retry, then it stops.
    expect(used).toEqual(["ghs_first", "ghs_first", "ghs_second", "ghs_second"]);
  });
});

describe("a 502 on pull request creation after GitHub created it", () => {
  /** GitHub's pulls endpoints, holding the PRs it created; the first create answers 502 anyway. */
  function pullsThatFailAfterCreating() {
    const pulls: { number: number; head: string }[] = [];
    let creates = 0;
    nock(api)
      .persist()
      .get(`${repoPath}/pulls`)
      .query(true)
      .reply((uri) => {
        const head = new URL(uri, api).searchParams.get("head")?.split(":")[1];
        return [200, pulls.filter((pull) => pull.head === head).map((pull) => ({ number: pull.number, html_url: `https://github.com/posthog/posthog/pull/${pull.number}`, draft: true, head: { ref: pull.head } }))];
      })
      .post(`${repoPath}/pulls`)
      .reply((_uri, body) => {
        const head = String((body as { head: string }).head);
        creates += 1;
        if (pulls.some((pull) => pull.head === head)) {
          return [422, { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for posthog:${head}.` }] }];
        }
        pulls.push({ number: 100 + pulls.length, head });
        return creates === 1 ? [502, { message: "Server Error" }] : [201, { number: pulls.at(-1)!.number, html_url: `https://github.com/posthog/posthog/pull/${pulls.at(-1)!.number}`, draft: true }];
      })
      .patch(/\/repos\/posthog\/posthog\/pulls\/\d+$/)
      .reply(200, {});
    return pulls;
  }
  const input = { owner: "posthog", repo: "posthog", head: "tasks/pos-1-dark-mode", base: "main", title: "Dark mode", body: "Closes #7" };

  it("the client's retry meets 'already exists' and reuses that PR: exactly one PR", async () => {
    tokenEndpoint(["ghs_a"]);
    const pulls = pullsThatFailAfterCreating();
    const octokit = await installationClient();
    const result = await openOrReusePullRequest(octokit, input);
    expect(pulls).toHaveLength(1);
    expect(result).toMatchObject({ number: pulls[0]!.number, url: `https://github.com/posthog/posthog/pull/${pulls[0]!.number}` });
  });

  it("a retried publish step (after the 502 surfaced) finds the PR by its branch: exactly one PR", async () => {
    tokenEndpoint(["ghs_a"]);
    const pulls = pullsThatFailAfterCreating();
    // Retries off, so the 502 reaches the step, whose retry calls again.
    const octokit = await createGitHubClients(config, appPrivateKey, TestOctokit)!.auth(installationId);
    await expect(openOrReusePullRequest(octokit, input)).rejects.toMatchObject({ status: 502 });
    const result = await openOrReusePullRequest(octokit, input);
    expect(pulls).toHaveLength(1);
    expect(result).toMatchObject({ number: pulls[0]!.number, created: false });
  });
});

describe("the installation removed while a task runs", () => {
  let world: World | undefined;
  afterEach(async () => {
    await destroyWorld(world);
    world = undefined;
  });

  /** Processes of this world's sandboxes: every one of them names the server's data directory. */
  const sandboxProcesses = (dataDir: string) => {
    try {
      return execFileSync("pgrep", ["-f", dataDir], { encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };

  it("cancels the task cleanly: the agent is stopped, the sandbox is gone, though GitHub now refuses the App", { timeout: 120_000 }, async () => {
    world = await createWorld({ env: { TASKS_AGENT: "command", TASKS_AGENT_COMMAND: fakeAgentCommand("hang") } });
    const { dataDir } = world.server;
    const task = await label(world);
    // The coder hangs in its sandbox.
    for (let i = 0; i < 1200 && !world.github.callsTo("POST", /\/check-runs$/).some((call) => call.body["name"] === "Tasks · Code"); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 1200 && !sandboxProcesses(dataDir); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sandboxProcesses(dataDir)).not.toBe("");

    // Uninstalled: from now on GitHub answers every call about the installation with 404.
    const apiUrl = `http://${new URL(world.remote.url).host}`;
    nock.cleanAll();
    for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"]) nock(apiUrl).persist().intercept(/.*/, method).reply(404, { message: "Not Found" });
    const removed = await deliver(world.server.url, { event: "installation", payload: installationEvent("deleted") });
    expect(removed.status).toBe(202);
    await world.server.webhooksIdle();

    const done = await waitForRun(world, task.id);
    expect(done.status).toBe("cancelled");
    expect(done.runs[0]!.status).toBe("cancelled");
    expect(sandboxProcesses(dataDir)).toBe("");
    const workspaces = path.join(dataDir, "workspaces");
    expect(existsSync(workspaces) ? readdirSync(workspaces) : []).toEqual([]);
    const events = await world.server.db.prisma.taskEvent.findMany({ where: { taskId: task.id }, orderBy: { id: "asc" } });
    expect(events.map((event) => event.message)).toContain("cancelled: the GitHub App installation was deleted");
    // Nothing new may start for it: the integration no longer covers the repository.
    expect((await world.server.db.prisma.gitHubIntegration.findFirstOrThrow({ where: { installationId: 4242n } })).suspended).toBe(true);
  });
});
