// The board, task pages, actions and event stream over real HTTP: what a team sees, what it
// never sees of another team, hostile text shown as text, and the same rules as the API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveStageOutput } from "../../src/db/stage-outputs.ts";
import { appendTaskEvent } from "../../src/db/task-events.ts";
import { testDatabases } from "../helpers/databases.ts";
import { get, openStream, post, signIn, type Browserless } from "../helpers/dashboard.ts";
import { client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";

const hostileTitle = `<script>alert(1)</script><img src=x onerror="alert(2)"> & "quotes"`;

describe.each(testDatabases)("dashboard pages on %s", (kind) => {
  let server: TestServer;
  let alpha: Awaited<ReturnType<typeof seedTeam>>;
  let beta: Awaited<ReturnType<typeof seedTeam>>;
  let alphaSession: Browserless;
  let betaSession: Browserless;

  const createTask = async (seed: typeof alpha, title: string, extra: Record<string, unknown> = {}) => {
    const res = await client(server.url, seed.apiKey)("POST", "/api/tasks", { title, description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository, ...extra });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; slug: string };
  };
  const apiTask = async (seed: typeof alpha, id: string) => (await client(server.url, seed.apiKey)("GET", `/api/tasks/${id}`)).body;

  beforeAll(async () => {
    server = await startTestServer(kind);
    alpha = await seedTeam(server.url, "PostHog", { userId: "a1", repository: "posthog/posthog" });
    beta = await seedTeam(server.url, "Beta Team", { userId: "b1", repository: "beta/app" });
    alphaSession = await signIn(server.url, alpha.apiKey);
    betaSession = await signIn(server.url, beta.apiKey);
  });
  afterAll(async () => server?.close());

  it("shows the team's tasks as cards in the columns of its workflow stages", async () => {
    const task = await createTask(alpha, "Board card task");
    // The run reaches Code: the card moves to that column.
    await server.db.prisma.task.update({ where: { id: task.id }, data: { currentStage: { connect: { workflowId_key: { workflowId: (await apiTask(alpha, task.id)).workflow_id, key: "code" } } }, status: "running" } });
    const board = await get(server.url, "/tasks", alphaSession.cookie);
    expect(board.status).toBe(200);
    const columns = [...board.text.matchAll(/<section class="column"[^>]*>\s*<h2[^>]*>([^<]+)<span/g)].map((m) => m[1]!.trim());
    expect(columns).toEqual(["Plan", "Code", "Review", "Complete"]);
    const codeColumn = board.text.split('<section class="column"')[2]!;
    expect(codeColumn).toContain(`data-slug="${task.slug}"`);
    expect(codeColumn).toContain("posthog/posthog");
    expect(codeColumn).toContain("user_created");
    expect(codeColumn).toContain('class="status status-running"');
    // This server has no GitHub App: the board says so, and how to set it up.
    expect(board.text).toContain("Setup is not finished");
    expect(board.text).toContain("No GitHub App is configured");
  });

  it("filters by status, repository and origin product through the query string", async () => {
    const tracked = await createTask(alpha, "Error tracking task", { origin_product: "error_tracking" });
    const other = await createTask(alpha, "Support task", { origin_product: "support_queue" });
    const byProduct = await get(server.url, "/tasks?origin_product=error_tracking", alphaSession.cookie);
    expect(byProduct.text).toContain(`data-slug="${tracked.slug}"`);
    expect(byProduct.text).not.toContain(`data-slug="${other.slug}"`);
    expect(byProduct.text).toContain('<option value="error_tracking" selected>');
    await post(server.url, `/tasks/${other.slug}/cancel`, { csrf: alphaSession.csrf }, { cookie: alphaSession.cookie });
    const cancelled = await get(server.url, "/tasks?status=cancelled", alphaSession.cookie);
    expect(cancelled.text).toContain(`data-slug="${other.slug}"`);
    expect(cancelled.text).not.toContain(`data-slug="${tracked.slug}"`);
    const none = await get(server.url, "/tasks?repository=nobody%2Fnothing", alphaSession.cookie);
    expect(none.text).not.toContain('class="card"');
    const bad = await get(server.url, "/tasks?status=%3Cb%3Ebogus", alphaSession.cookie);
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain("<b>bogus");
  });

  it("shows a hostile title as text on the board and the task page", async () => {
    const task = await createTask(alpha, hostileTitle);
    await appendTaskEvent(server.db.prisma, { taskId: task.id, type: "agent_output", message: "</pre><script>alert(3)</script>", data: {} });
    for (const path of ["/tasks", `/tasks/${task.slug}`]) {
      const page = await get(server.url, path, alphaSession.cookie);
      expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt; &amp; &quot;quotes&quot;");
      expect(page.text).not.toContain("<script>alert");
      expect(page.text).not.toContain("<img src=x");
    }
    expect((await get(server.url, `/tasks/${task.slug}`, alphaSession.cookie)).text).toContain("&lt;/pre&gt;&lt;script&gt;alert(3)");
  });

  it("shows a task's stages, plan, review notes, runs with usage, and log", async () => {
    const task = await createTask(alpha, "Page task");
    const run = await server.db.prisma.taskRun.findFirstOrThrow({ where: { taskId: task.id } });
    await saveStageOutput(server.db.prisma, { runId: run.id, stage: "plan", iteration: 1, role: "planner", text: "1. Change <the> README" });
    await saveStageOutput(server.db.prisma, { runId: run.id, stage: "review", iteration: 1, role: "reviewer", text: "APPROVE\nLooks good." });
    await server.db.prisma.taskRun.update({ where: { id: run.id }, data: { inputTokens: 1200, outputTokens: 340 } });
    await appendTaskEvent(server.db.prisma, { taskId: task.id, runId: run.id, type: "stage_entered", message: "entered Plan", data: { stage: "plan" } });
    await appendTaskEvent(server.db.prisma, { taskId: task.id, runId: run.id, type: "agent_output", message: "reading the README", data: { stage: "plan", lines: 1 } });
    const page = await get(server.url, `/tasks/${task.slug.toLowerCase()}`, alphaSession.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain("1. Change &lt;the&gt; README");
    expect(page.text).toContain("APPROVE\nLooks good.");
    expect(page.text).toContain("Run 1");
    expect(page.text).toContain("1,200 in · 340 out");
    expect(page.text).toContain("reading the README");
    expect(page.text).toMatch(/<li class="stage stage-(pending|current)"[^>]*>\s*<span class="stage-name">Plan<\/span>/);
    expect(page.text).toContain(`action="/tasks/${task.slug}/cancel"`);
    expect(page.text).not.toContain(`action="/tasks/${task.slug}/approve"`);
  });

  it("answers an unknown, malformed or another team's slug with a 404 page", async () => {
    const theirs = await createTask(beta, "Beta hidden task");
    for (const path of [`/tasks/${theirs.slug}`, "/tasks/POS-99999", "/tasks/not-a-slug", `/tasks/${theirs.id}`, "/tasks/POS-1/nothing"]) {
      const res = await get(server.url, path, alphaSession.cookie);
      expect(res.status, path).toBe(404);
      expect(res.text).toContain("Not found");
      expect(res.text).not.toContain("Beta hidden task");
    }
    // Nor can another team act on it, whichever action.
    for (const action of ["cancel", "approve", "retry"]) {
      const res = await post(server.url, `/tasks/${theirs.slug}/${action}`, { csrf: alphaSession.csrf }, { cookie: alphaSession.cookie });
      expect(res.status, action).toBe(404);
    }
    expect((await apiTask(beta, theirs.id)).status).toBe("queued");
    expect((await openStream(server.url, `/tasks/events?task=${theirs.slug}`, alphaSession.cookie)).status).toBe(404);
    const board = await get(server.url, "/tasks", alphaSession.cookie);
    expect(board.text).not.toContain(theirs.slug);
    expect(board.text).not.toContain("beta/app");
  });

  it("acts through the same rules as the API: cancel, retry, approve only when waiting", async () => {
    const task = await createTask(alpha, "Action task");
    const form = (action: string) => post(server.url, `/tasks/${task.slug}/${action}`, { csrf: alphaSession.csrf }, { cookie: alphaSession.cookie });
    const approve = await form("approve");
    expect(approve.status).toBe(409);
    expect(approve.text).toContain("is not waiting for approval");
    const cancel = await form("cancel");
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get("location")).toBe(`/tasks/${task.slug}`);
    const after = await apiTask(alpha, task.id);
    expect(after.status).toBe("cancelled");
    expect(after.events.at(-1)).toMatchObject({ type: "task_cancelled", message: `cancelled by api-key:${(await server.db.prisma.apiKey.findFirstOrThrow({ where: { teamId: alpha.team.id } })).id}` });
    expect((await form("cancel")).status).toBe(409);
    expect((await form("retry")).status).toBe(303);
    expect((await apiTask(alpha, task.id)).runs).toHaveLength(2);

    const waiting = await createTask(alpha, "Waiting task");
    await server.db.prisma.task.update({ where: { id: waiting.id }, data: { status: "waiting_approval", currentStage: { connect: { workflowId_key: { workflowId: (await apiTask(alpha, waiting.id)).workflow_id, key: "plan" } } } } });
    const page = await get(server.url, `/tasks/${waiting.slug}`, alphaSession.cookie);
    expect(page.text).toContain(`action="/tasks/${waiting.slug}/approve"`);
    expect((await post(server.url, `/tasks/${waiting.slug}/approve`, { csrf: alphaSession.csrf }, { cookie: alphaSession.cookie })).status).toBe(303);
    expect((await apiTask(alpha, waiting.id)).stage.key).toBe("code");
  });

  it("streams changes of the team's own tasks only", async () => {
    const mine = await createTask(beta, "Beta streamed task");
    const theirs = await createTask(alpha, "Alpha streamed task");
    const board = await openStream(server.url, "/tasks/events", betaSession.cookie);
    const page = await openStream(server.url, `/tasks/events?task=${mine.slug}`, betaSession.cookie);
    try {
      expect(board.status).toBe(200);
      expect(board.headers.get("content-type")).toMatch(/^text\/event-stream/);
      await board.reader.until((e) => e.event === "ready");
      await page.reader.until((e) => e.event === "ready");
      // Another team's change first, then one of ours: the first change either stream reports is ours.
      await client(server.url, alpha.apiKey)("POST", `/api/tasks/${theirs.id}/cancel`);
      await client(server.url, beta.apiKey)("POST", `/api/tasks/${mine.id}/cancel`);
      const lastEvent = (await server.db.prisma.taskEvent.findFirstOrThrow({ where: { taskId: mine.id }, orderBy: { id: "desc" } })).id.toString();
      for (const stream of [board, page]) {
        const seen = await stream.reader.until((e) => e.event === "changed");
        const changes = seen.filter((e) => e.event === "changed");
        expect(changes).toHaveLength(1);
        expect(changes[0]!.data.split(":").at(-1)).toBe(lastEvent);
      }
      // A stream opened after another team's latest change starts from this team's own state.
      expect((await client(server.url, alpha.apiKey)("POST", `/api/tasks/${theirs.id}/run`)).status).toBe(200);
      const fresh = await openStream(server.url, "/tasks/events", betaSession.cookie);
      const [ready] = await fresh.reader.until((e) => e.event === "ready");
      fresh.reader.close();
      const betaTasks = await server.db.prisma.task.count({ where: { teamId: beta.team.id } });
      const betaLastEvent = (await server.db.prisma.taskEvent.findFirstOrThrow({ where: { task: { teamId: beta.team.id } }, orderBy: { id: "desc" } })).id.toString();
      expect(ready!.data.split(":")[0]).toBe(String(betaTasks));
      expect(ready!.data.split(":").at(-1)).toBe(betaLastEvent);
    } finally {
      board.reader.close();
      page.reader.close();
    }
  });
});
