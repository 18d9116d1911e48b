// Reading and acting on tasks through the team API: auth and tenancy, get, list with filters
// and cursors, run, cancel and stage moves, on PostgreSQL and on PGlite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";
import type { RecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

describe.each(testDatabases)("task API on %s", (kind) => {
  let server: TestServer;
  let seed: Awaited<ReturnType<typeof seedTeam>>;
  let api: ReturnType<typeof client>;
  const create = (overrides: Record<string, unknown> = {}) =>
    api("POST", "/api/tasks", {
      title: "Add dark mode",
      description: "Implement a dark mode toggle",
      origin_product: "user_created",
      user_id: seed.userId,
      repository: seed.repository,
      ...overrides,
    });

  beforeAll(async () => {
    server = await startTestServer(kind);
    seed = await seedTeam(server.url);
    api = client(server.url, seed.apiKey);
  });
  afterAll(async () => server?.close());

  describe("authentication and tenancy", () => {
    it.each([
      ["no Authorization header", undefined],
      ["a malformed key", "not-a-key"],
      ["a well-formed but unknown key", "tsk_AAAAAAAAAAAA_" + "a".repeat(43)],
    ])("answers 401 for %s", async (_name, token) => {
      for (const [method, path] of [["GET", "/api/tasks"], ["POST", "/api/tasks"], ["GET", "/api/tasks/POS-1"]] as const) {
        const res = await client(server.url, token)(method, path, method === "POST" ? {} : undefined);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.body.error.code).toBe("unauthorized");
      }
    });

    it("answers 401 for the right lookup with a wrong secret", async () => {
      const forged = seed.apiKey.slice(0, -4) + (seed.apiKey.endsWith("AAAA") ? "BBBB" : "AAAA");
      expect((await client(server.url, forged)("GET", "/api/tasks")).status).toBe(401);
    });

    it("never shows one team's tasks to another", async () => {
      const mine = await create();
      const other = await seedTeam(server.url, "Outsiders", { userId: "o1", repository: "out/app" });
      const theirs = client(server.url, other.apiKey);
      expect((await theirs("GET", `/api/tasks/${mine.body.id}`)).status).toBe(404);
      expect((await theirs("GET", `/api/tasks/${mine.body.slug}`)).status).toBe(404);
      expect((await theirs("POST", `/api/tasks/${mine.body.id}/cancel`)).status).toBe(404);
      expect((await theirs("POST", `/api/tasks/${mine.body.id}/stage`, { stage: "code" })).status).toBe(404);
      expect((await theirs("GET", "/api/tasks")).body.tasks).toEqual([]);
    });
  });

  describe("GET /api/tasks/{id|slug}", () => {
    it("finds a task by id, by slug and by lower-case slug, with runs and events", async () => {
      const task = (await create()).body;
      for (const ref of [task.id, task.slug, task.slug.toLowerCase()]) {
        const res = await api("GET", `/api/tasks/${ref}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: task.id, slug: task.slug });
        expect(res.body.runs).toHaveLength(1);
        expect(res.body.events.length).toBeGreaterThan(0);
      }
    });

    it.each(["POS-999999", "nonsense", "00000000-0000-4000-8000-000000000000", "POS-0"])("answers 404 for %s", async (ref) => {
      const res = await api("GET", `/api/tasks/${ref}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("task_not_found");
    });
  });

  describe("GET /api/tasks", () => {
    it("pages newest first with a cursor and filters by status, stage and origin_product", async () => {
      const fresh = await seedTeam(server.url, "Listing", { userId: "li", repository: "list/app" });
      const listing = client(server.url, fresh.apiKey);
      const make = (origin: string) =>
        listing("POST", "/api/tasks", { title: "t", description: "d", origin_product: origin, user_id: "li", repository: "list/app" });
      const created = [];
      for (const origin of ["error_tracking", "support_queue", "error_tracking", "user_created", "error_tracking"]) created.push((await make(origin)).body);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: { tasks: { slug: string }[]; next_cursor: string | null } } = await listing("GET", `/api/tasks?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.status).toBe(200);
        expect(page.body.tasks.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.tasks.map((t) => t.slug));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(created.map((t) => t.slug).reverse());

      const errors = await listing("GET", "/api/tasks?origin_product=error_tracking");
      expect(errors.body.tasks).toHaveLength(3);

      await listing("POST", `/api/tasks/${created[0].id}/cancel`);
      await listing("POST", `/api/tasks/${created[1].id}/stage`, { stage: "review" });
      expect((await listing("GET", "/api/tasks?status=cancelled")).body.tasks.map((t: { id: string }) => t.id)).toEqual([created[0].id]);
      expect((await listing("GET", "/api/tasks?stage=review")).body.tasks.map((t: { id: string }) => t.id)).toEqual([created[1].id]);
      expect((await listing("GET", "/api/tasks?stage=plan&status=queued")).body.tasks).toHaveLength(3);
    });

    it.each([
      ["an unknown status", "status=done", "status"],
      ["a limit above 100", "limit=1000", "limit"],
      ["a limit that is not a number", "limit=ten", "limit"],
      ["a forged cursor", "cursor=bm90LWEtY3Vyc29y", "cursor"],
      ["an unknown parameter", "sort=asc", "sort"],
    ])("answers 400 for %s", async (_name, query, field) => {
      const res = await api("GET", `/api/tasks?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe(field);
    });
  });

  describe("actions", () => {
    it("cancels a task and its run, tells the engine, and refuses to cancel twice", async () => {
      const task = (await create()).body;
      const res = await api("POST", `/api/tasks/${task.slug}/cancel`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("cancelled");
      const detail = (await api("GET", `/api/tasks/${task.id}`)).body;
      expect(detail.runs[0]).toMatchObject({ status: "cancelled" });
      expect(detail.runs[0].finished_at).not.toBeNull();
      expect(detail.events.map((e: { type: string }) => e.type)).toContain("task_cancelled");
      expect((server.orchestrator as RecordingOrchestrator).cancelled.map((r) => r.taskId)).toContain(task.id);

      const again = await api("POST", `/api/tasks/${task.slug}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe("task_finished");
    });

    it("runs again only when no run is active, numbering attempts", async () => {
      const task = (await create()).body;
      const busy = await api("POST", `/api/tasks/${task.id}/run`);
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe("run_active");

      await api("POST", `/api/tasks/${task.id}/cancel`);
      const rerun = await Promise.all([api("POST", `/api/tasks/${task.id}/run`), api("POST", `/api/tasks/${task.id}/run`)]);
      expect(rerun.map((r) => r.status).sort()).toEqual([200, 409]);
      const detail = (await api("GET", `/api/tasks/${task.id}`)).body;
      expect(detail.status).toBe("queued");
      expect(detail.runs.map((r: { attempt: number; status: string }) => [r.attempt, r.status])).toEqual([
        [1, "cancelled"],
        [2, "queued"],
      ]);
    });

    it("refuses to run a completed task", async () => {
      const task = (await create()).body;
      await server.db.prisma.taskRun.updateMany({ where: { taskId: task.id }, data: { status: "completed" } });
      await server.db.prisma.task.update({ where: { id: task.id }, data: { status: "completed" } });
      const res = await api("POST", `/api/tasks/${task.id}/run`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("task_completed");
    });

    it("moves a task to another stage, tells the engine, and names the stages when the key is wrong", async () => {
      const task = (await create()).body;
      const moved = await api("POST", `/api/tasks/${task.id}/stage`, { stage: "code" });
      expect(moved.status).toBe(200);
      expect(moved.body.stage).toEqual({ key: "code", name: "Code" });
      expect((server.orchestrator as RecordingOrchestrator).moves).toContainEqual(expect.objectContaining({ stageKey: "code", run: expect.objectContaining({ taskId: task.id }) }));

      const wrong = await api("POST", `/api/tasks/${task.id}/stage`, { stage: "deploy" });
      expect(wrong.status).toBe(422);
      expect(wrong.body.error).toMatchObject({ code: "stage_not_found", field: "stage" });
      expect(wrong.body.error.message).toContain("plan, code, review, complete");

      expect((await api("POST", `/api/tasks/${task.id}/stage`, {})).status).toBe(400);
      expect((await api("POST", `/api/tasks/${task.id}/stage`, { stage: "code", extra: 1 })).body.error.field).toBe("extra");

      await api("POST", `/api/tasks/${task.id}/cancel`);
      expect((await api("POST", `/api/tasks/${task.id}/stage`, { stage: "plan" })).status).toBe(409);
    });

    it("approves a stage that waits for approval, and refuses when nothing waits", async () => {
      const task = (await create()).body;
      const early = await api("POST", `/api/tasks/${task.id}/approve`);
      expect(early.status).toBe(409);
      expect(early.body.error.code).toBe("not_waiting");
      await server.db.prisma.task.update({ where: { id: task.id }, data: { status: "waiting_approval" } });
      const approved = await api("POST", `/api/tasks/${task.slug}/approve`);
      expect(approved.status).toBe(200);
      expect(approved.body.stage).toEqual({ key: "code", name: "Code" });
      expect((server.orchestrator as RecordingOrchestrator).moves).toContainEqual(expect.objectContaining({ stageKey: "code", run: expect.objectContaining({ taskId: task.id }) }));
    });

    it("answers 403 to a run while the tasks flag is off", async () => {
      const task = (await create()).body;
      await api("POST", `/api/tasks/${task.id}/cancel`);
      await server.db.prisma.featureFlag.create({ data: { teamId: seed.team.id, key: "tasks", enabled: false } });
      try {
        const res = await api("POST", `/api/tasks/${task.id}/run`);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("feature_disabled");
      } finally {
        await server.db.prisma.featureFlag.delete({ where: { teamId_key: { teamId: seed.team.id, key: "tasks" } } });
      }
    });
  });

  it("answers unknown routes under /api with a JSON 404", async () => {
    const res = await api("GET", "/api/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
