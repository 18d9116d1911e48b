// The inbox through the real server: a handler that keeps failing is retried and then shows as
// failed with its reason (admin API and CLI) until an operator runs it again; a delivery run
// again finds the task its first run made; a redelivery of a processed id does nothing.
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { installationEvent, issuesLabeled } from "../fixtures/webhooks.ts";
import { parseJson, runCli } from "../cli/run-cli.ts";
import { testDatabases } from "../helpers/databases.ts";
import { allowOnlyLocalhost, deliver, GitHubMock, githubAppEnv, TestOctokit } from "../helpers/github.ts";
import { adminToken, client, startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

describe.each(testDatabases)("webhook inbox behind the server on %s", (kind) => {
  let server: TestServer;
  let issueNumber = 300;
  const nextIssue = () => ++issueNumber;
  const admin = (method: string, path: string, body?: unknown) => client(server.url, adminToken)(method, path, body);
  const cli = (...args: string[]) => runCli(["--url", server.url, ...args], { TASKS_ADMIN_TOKEN: adminToken });
  const tasksOf = (issue: number) => server.db.prisma.task.findMany({ where: { issueNumber: issue } });
  const delivery = async (id: string): Promise<Delivery | undefined> =>
    ((await admin("GET", "/api/admin/deliveries?limit=200")).body.deliveries as Delivery[]).find((d) => d.id === id);

  // Requests to GitHub that no interceptor expected: nock refuses them, and a handler would only log it.
  const unexpected: string[] = [];
  const recordUnexpected = (req: { method?: string; path?: string; host?: string }) => {
    if (!/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(req.host ?? "")) unexpected.push(`${req.method} ${req.host ?? ""}${req.path ?? ""}`);
  };

  beforeAll(async () => {
    allowOnlyLocalhost();
    nock.emitter.on("no match", recordUnexpected);
    server = await startTestServer(kind, { env: githubAppEnv, Octokit: TestOctokit, inbox: { retryDelaysMs: [10, 20], pollMs: 100 } });
    await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) });
    await server.webhooksIdle();
  });
  afterEach(() => {
    nock.cleanAll();
    unexpected.length = 0;
  });
  afterAll(async () => {
    nock.emitter.removeListener("no match", recordUnexpected);
    await server?.close();
    nock.enableNetConnect();
  });

  it("retries a handler that throws, then shows it failed with its reason until an operator runs it again", async () => {
    const issue = nextIssue();
    const id = `failing-${kind}`;
    const outage = new GitHubMock().scope.get("/repos/posthog/posthog/collaborators/octocat/permission").times(3).reply(502, { message: "Bad Gateway" });
    expect((await deliver(server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: issue } }), id })).status).toBe(202);
    await waitFor(async () => (await delivery(id))?.status === "failed", "the delivery failing");
    expect(outage.pendingMocks()).toEqual([]);
    expect(await tasksOf(issue)).toEqual([]);

    const failed = await admin("GET", "/api/admin/deliveries?status=failed");
    expect(failed.status).toBe(200);
    expect(failed.body.deliveries).toEqual([
      {
        id, event: "issues", action: "labeled", installation_id: 4242, status: "failed", attempts: 3, next_attempt_at: null,
        last_error: expect.stringContaining("Bad Gateway"), received_at: expect.any(String), processed_at: null,
      },
    ]);
    const [json, text] = await Promise.all([cli("deliveries", "--failed", "--json"), cli("deliveries", "--failed")]);
    expect(parseJson<{ deliveries: Delivery[] }>(json).deliveries.map((d) => [d.id, d.status, d.attempts])).toEqual([[id, "failed", 3]]);
    const [header, row] = text.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^ID\s+EVENT\s+STATUS\s+ATTEMPTS\s+RECEIVED\s+LAST ERROR$/);
    expect(row).toMatch(new RegExp(`^${id}\\s+issues\\.labeled\\s+failed\\s+3\\s+\\S+\\s+.*Bad Gateway`));
    expect(text.stderr).toContain(`tasks deliveries retry <id>`);

    const github = new GitHubMock().permission("octocat", "write").issueReaction(issue).listComments([], issue).createComment(issue);
    const retried = await cli("deliveries", "retry", id);
    expect(retried).toMatchObject({ code: 0, stdout: `Delivery ${id} (issues.labeled) runs again now\n` });
    await server.webhooksIdle();
    expect(await tasksOf(issue)).toHaveLength(1);
    expect(await delivery(id)).toMatchObject({ status: "processed", attempts: 1 });
    expect(github.pending()).toEqual([]);

    const again = await admin("POST", `/api/admin/deliveries/${id}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({ code: "delivery_not_failed", message: `delivery ${id} is processed: only a failed delivery can be retried` });
    const unknown = await admin("POST", "/api/admin/deliveries/no-such-delivery/retry");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("delivery_not_found");
    const [processed, missing] = await Promise.all([cli("deliveries", "retry", id), cli("deliveries", "retry", "no-such-delivery")]);
    expect(processed).toMatchObject({ code: 1, stderr: `tasks: delivery ${id} is processed: only a failed delivery can be retried\n` });
    expect(missing).toMatchObject({ code: 1, stderr: 'tasks: no webhook delivery "no-such-delivery"\n' });
    expect(unexpected).toEqual([]);
  });

  it("refuses bad listing requests like every admin route", async () => {
    expect((await client(server.url)("GET", "/api/admin/deliveries")).status).toBe(401);
    for (const query of ["limit=0", "limit=201", "status=lost", "colour=blue"]) {
      const res = await admin("GET", `/api/admin/deliveries?${query}`);
      expect([res.status, res.body.error.code]).toEqual([400, "invalid_query"]);
    }
    expect(await cli("deliveries", "--limit", "500")).toMatchObject({ code: 2, stderr: 'tasks: --limit must be a whole number from 1 to 200 (got "500")\n' });
    const openapi = await client(server.url)("GET", "/api/openapi.json");
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(["/api/admin/deliveries", "/api/admin/deliveries/{delivery}/retry"]));
  });

  it("marks a failure that retrying cannot fix failed at once", async () => {
    const issue = nextIssue();
    const id = `flag-off-${kind}`;
    expect((await admin("PUT", "/api/admin/teams/posthog/flags/tasks", { enabled: false })).status).toBe(200);
    try {
      const github = new GitHubMock().permission("octocat", "write").issueReaction(issue);
      expect((await deliver(server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: issue } }), id })).status).toBe(202);
      await server.webhooksIdle();
      expect(await delivery(id)).toMatchObject({ status: "failed", attempts: 1, last_error: 'the "tasks" feature flag is not enabled for this team' });
      expect(github.pending()).toEqual([]);
    } finally {
      await admin("PUT", "/api/admin/teams/posthog/flags/tasks", { enabled: true });
    }
  });

  it("runs a delivery that failed after creating its task again without a second task", async () => {
    const issue = nextIssue();
    const id = `half-done-${kind}`;
    // The first run creates the task, then GitHub fails the tracking comment.
    const first = new GitHubMock().permission("octocat", "write").issueReaction(issue).listComments([], issue);
    first.scope.post(`/repos/posthog/posthog/issues/${issue}/comments`).reply(502, { message: "Bad Gateway" });
    const second = new GitHubMock().permission("octocat", "write").issueReaction(issue).listComments([], issue).createComment(issue);
    expect((await deliver(server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: issue } }), id })).status).toBe(202);
    await waitFor(async () => (await delivery(id))?.status === "processed", "the retried delivery");
    expect(await delivery(id)).toMatchObject({ attempts: 2, last_error: expect.stringContaining("Bad Gateway") });
    const tasks = await tasksOf(issue);
    expect(tasks).toHaveLength(1);
    expect(second.bodiesOf("comment")[0]!["body"]).toContain(tasks[0]!.slug);
    expect([first.pending(), second.pending(), unexpected]).toEqual([[], [], []]);
  });

  it("answers a redelivery of a processed id as a duplicate and does nothing", async () => {
    const issue = nextIssue();
    const id = `done-${kind}`;
    const payload = issuesLabeled("task", { issue: { number: issue } });
    const github = new GitHubMock().permission("octocat", "write").issueReaction(issue).listComments([], issue).createComment(issue);
    expect((await deliver(server.url, { event: "issues", payload, id })).status).toBe(202);
    await server.webhooksIdle();
    expect(github.pending()).toEqual([]);
    const before = await server.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
    expect(before).toMatchObject({ status: "processed", attempts: 1, payload: null });

    const res = await deliver(server.url, { event: "issues", payload, id });
    expect(res).toEqual({ status: 200, body: JSON.stringify({ status: "duplicate" }) });
    await server.webhooksIdle();
    expect(await server.db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } })).toEqual(before);
    expect(await tasksOf(issue)).toHaveLength(1);
    expect(unexpected).toEqual([]);
  });
});
