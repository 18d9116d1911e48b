// POST /api/tasks through the real server: the happy path, every validation error, and the
// concurrency claims (gapless numbers, idempotency races), on PostgreSQL and on PGlite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { adminToken, client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";
import type { RecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const body = (overrides: Record<string, unknown> = {}) => ({
  title: "Fix race condition in event ingestion pipeline",
  description: "Concurrent writes are not checked for existing records.",
  origin_product: "error_tracking",
  user_id: "42",
  repository: "posthog/posthog",
  ...overrides,
});

describe.each(testDatabases)("POST /api/tasks on %s", (kind) => {
  let server: TestServer;
  let seed: Awaited<ReturnType<typeof seedTeam>>;
  let api: ReturnType<typeof client>;
  let admin: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer(kind);
    seed = await seedTeam(server.url);
    api = client(server.url, seed.apiKey);
    admin = client(server.url, adminToken);
  });
  afterAll(async () => server?.close());

  it("creates a task in the first stage of the default workflow, numbered and queued", async () => {
    const res = await api("POST", "/api/tasks", body());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      number: 1,
      slug: "POS-1",
      status: "queued",
      stage: { key: "plan", name: "Plan" },
      repository: "posthog/posthog",
      origin_product: "error_tracking",
      source: "api",
      issue_number: null,
      created_by: "42",
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(res.body.created_at).toISOString()).toBe(res.body.created_at);

    const detail = await api("GET", "/api/tasks/POS-1");
    expect(detail.body.runs).toEqual([expect.objectContaining({ attempt: 1, status: "queued", engine: "recorded" })]);
    expect(detail.body.events.map((e: { type: string }) => e.type)).toEqual(["task_created", "run_queued"]);
    const orchestrator = server.orchestrator as RecordingOrchestrator;
    expect(orchestrator.started).toContainEqual({ taskId: res.body.id, runId: detail.body.runs[0].id, attempt: 1 });
  });

  it("accepts a numeric user_id and repositories in any letter case", async () => {
    const res = await api("POST", "/api/tasks", body({ user_id: 42, repository: "PostHog/PostHog" }));
    expect(res.status).toBe(201);
    expect(res.body.repository).toBe("PostHog/PostHog");
  });

  it.each([
    ["a repository without a slash", { repository: "invalid-format" }, 400, "invalid_repository", "repository"],
    ["a repository with three parts", { repository: "a/b/c" }, 400, "invalid_repository", "repository"],
    ["a repository named ..", { repository: "org/.." }, 400, "invalid_repository", "repository"],
    ["an unknown user", { user_id: "nobody" }, 422, "user_not_found", "user_id"],
    ["a repository no integration covers", { repository: "posthog/other" }, 422, "repository_not_connected", "repository"],
    ["an unknown workflow", { workflow_id: "00000000-0000-4000-8000-000000000000" }, 422, "workflow_not_found", "workflow_id"],
    ["a workflow_id that is not a uuid", { workflow_id: "default" }, 400, "invalid_body", "workflow_id"],
    ["an unknown origin_product", { origin_product: "made_up" }, 400, "invalid_body", "origin_product"],
    ["a title of the wrong type", { title: 5 }, 400, "invalid_body", "title"],
    ["an empty title", { title: "   " }, 400, "invalid_body", "title"],
    ["a missing description", { description: undefined }, 400, "invalid_body", "description"],
    ["a NUL character", { description: "a\u0000b" }, 400, "invalid_body", "description"],
    ["an unknown field", { priority: "high" }, 400, "invalid_body", "priority"],
  ])("refuses %s", async (_name, overrides, status, code, field) => {
    const res = await api("POST", "/api/tasks", body(overrides));
    expect(res.status).toBe(status);
    expect(res.body.error).toMatchObject({ code, field });
    expect(res.body.error.message).toContain(field);
  });

  it("refuses a user of another team, naming user_id", async () => {
    const other = await seedTeam(server.url, "Other team", { userId: "7", repository: "other/repo" });
    const res = await api("POST", "/api/tasks", body({ user_id: other.userId }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "user_not_in_team", field: "user_id" });
  });

  it("refuses a workflow of another team", async () => {
    const other = await seedTeam(server.url, "Third team", { userId: "8", repository: "third/repo" });
    const task = await client(server.url, other.apiKey)("POST", "/api/tasks", body({ user_id: "8", repository: "third/repo" }));
    const res = await api("POST", "/api/tasks", body({ workflow_id: task.body.workflow_id }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("workflow_not_found");
  });

  it("answers 403 while the tasks flag is off for the team, and creates again once it is on", async () => {
    expect((await admin("PUT", `/api/admin/teams/${seed.team.id}/flags/tasks`, { enabled: false })).status).toBe(200);
    const refused = await api("POST", "/api/tasks", body());
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("feature_disabled");
    await admin("PUT", `/api/admin/teams/${seed.team.id}/flags/tasks`, { enabled: true });
    expect((await api("POST", "/api/tasks", body())).status).toBe(201);
  });

  it("answers 422 when the team has no workflow configured", async () => {
    const other = await seedTeam(server.url, "No workflow", { userId: "9", repository: "nowf/repo" });
    await server.db.prisma.team.update({ where: { id: other.team.id }, data: { defaultWorkflowId: null } });
    const res = await client(server.url, other.apiKey)("POST", "/api/tasks", body({ user_id: "9", repository: "nowf/repo" }));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "no_workflow", field: "workflow_id" });
  });

  it("refuses a suspended integration's repositories", async () => {
    const other = await seedTeam(server.url, "Suspended", { userId: "10", repository: "susp/repo" });
    await server.db.prisma.gitHubIntegration.updateMany({ where: { teamId: other.team.id }, data: { suspended: true } });
    const res = await client(server.url, other.apiKey)("POST", "/api/tasks", body({ user_id: "10", repository: "susp/repo" }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("repository_not_connected");
  });

  describe("malformed requests never get a 500 or a stack trace", () => {
    it.each([
      ["malformed JSON", '{"title": "x",', { "content-type": "application/json" }, 400, "invalid_json"],
      ["a JSON array", "[1,2]", { "content-type": "application/json" }, 400, "invalid_body"],
      ["JSON null", "null", { "content-type": "application/json" }, 400, "invalid_body"],
      ["a form body", "title=x", { "content-type": "application/x-www-form-urlencoded" }, 415, "unsupported_media_type"],
      ["no body at all", undefined, {}, 400, "invalid_body"],
    ])("%s", async (_name, raw, headers, status, code) => {
      const res = await api("POST", "/api/tasks", raw, headers as Record<string, string>);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.text).not.toMatch(/\n\s+at /);
    });

    it("a 10 MB body gets 413", async () => {
      const res = await api("POST", "/api/tasks", body({ description: "x".repeat(10 * 1024 * 1024) }));
      expect(res.status).toBe(413);
      expect(res.body.error.code).toBe("too_large");
    });
  });
});

describe.each(testDatabases)("numbering and idempotency under concurrency on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(async () => server?.close());

  const numbersOf = async (teamId: string) =>
    (await server.db.prisma.task.findMany({ where: { teamId }, select: { number: true }, orderBy: { number: "asc" } })).map((t) => t.number);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("gives 50 parallel creations the numbers 1..50, and two teams in parallel each their own sequence", async () => {
    const a = await seedTeam(server.url, "Alpha", { userId: "a1", repository: "alpha/app" });
    const b = await seedTeam(server.url, "Beta", { userId: "b1", repository: "beta/app" });
    const create = (seed: typeof a) => client(server.url, seed.apiKey)("POST", "/api/tasks", body({ user_id: seed.userId, repository: seed.repository }));
    const results = await Promise.all([...range(1, 50).map(() => create(a)), ...range(1, 30).map(() => create(b))]);
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    expect(results.slice(0, 50).map((r) => r.body.number).sort((x, y) => x - y)).toEqual(range(1, 50));
    expect(await numbersOf(a.team.id)).toEqual(range(1, 50));
    expect(await numbersOf(b.team.id)).toEqual(range(1, 30));
    expect(results.slice(50).every((r) => r.body.slug.startsWith("BET-"))).toBe(true);
  });

  it("leaves no gap when a creation fails inside its transaction", async () => {
    const seed = await seedTeam(server.url, "Gamma", { userId: "g1", repository: "gamma/app" });
    const gamma = client(server.url, seed.apiKey);
    const make = (title: string) => gamma("POST", "/api/tasks", body({ title, user_id: "g1", repository: "gamma/app" }));
    expect((await make("first")).body.number).toBe(1);
    // A trigger makes the insert itself fail, after the number was taken, as a real fault would.
    await server.db.prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION refuse_boom() RETURNS trigger AS $$
      BEGIN IF NEW.title = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await server.db.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_boom BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION refuse_boom()`);
    try {
      const failed = await Promise.all([make("boom"), make("boom"), make("second"), make("boom")]);
      expect(failed.map((r) => r.status).sort()).toEqual([201, 500, 500, 500]);
      expect(failed.find((r) => r.status === 500)!.body).toEqual({ error: { code: "internal", message: "internal error" } });
      expect((await make("third")).body.number).toBe(3);
      expect(await numbersOf(seed.team.id)).toEqual([1, 2, 3]);
      expect(await server.db.prisma.taskRun.count({ where: { task: { teamId: seed.team.id } } })).toBe(3);
    } finally {
      await server.db.prisma.$executeRawUnsafe(`DROP TRIGGER refuse_boom ON tasks`);
    }
  });

  it("returns the same task for 20 concurrent requests with one Idempotency-Key, and 409 for another body", async () => {
    const seed = await seedTeam(server.url, "Delta", { userId: "d1", repository: "delta/app" });
    const delta = client(server.url, seed.apiKey);
    const request = body({ user_id: "d1", repository: "delta/app" });
    const results = await Promise.all(range(1, 20).map(() => delta("POST", "/api/tasks", request, { "idempotency-key": "evt-123" })));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    expect(await numbersOf(seed.team.id)).toEqual([1]);

    // Same body with keys in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(request).reverse());
    const replay = await delta("POST", "/api/tasks", reordered, { "idempotency-key": "evt-123" });
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(results[0]!.body.id);

    const conflict = await delta("POST", "/api/tasks", { ...request, title: "Something else" }, { "idempotency-key": "evt-123" });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: "idempotency_key_reused", field: "Idempotency-Key" });
    expect(await numbersOf(seed.team.id)).toEqual([1]);

    // Keys are per team: another team may use the same key.
    const other = await seedTeam(server.url, "Epsilon", { userId: "e1", repository: "eps/app" });
    const elsewhere = await client(server.url, other.apiKey)("POST", "/api/tasks", body({ user_id: "e1", repository: "eps/app" }), { "idempotency-key": "evt-123" });
    expect(elsewhere.status).toBe(201);
  });

  it("hands a run that no engine took to the engine again when the request is replayed", async () => {
    const seed = await seedTeam(server.url, "Zeta", { userId: "z1", repository: "zeta/app" });
    const zeta = client(server.url, seed.apiKey);
    const request = body({ user_id: "z1", repository: "zeta/app" });
    const first = await zeta("POST", "/api/tasks", request, { "idempotency-key": "evt-stranded" });
    expect(first.status).toBe(201);
    // As if the process died between the commit and the hand-off: the run is queued, no engine has it.
    const run = await server.db.prisma.taskRun.findFirstOrThrow({ where: { taskId: first.body.id } });
    await server.db.prisma.taskRun.update({ where: { id: run.id }, data: { engine: null, engineId: null } });
    const orchestrator = server.orchestrator as RecordingOrchestrator;
    const handedOff = () => orchestrator.started.filter((started) => started.runId === run.id).length;
    expect(handedOff()).toBe(1);

    const replay = await zeta("POST", "/api/tasks", request, { "idempotency-key": "evt-stranded" });
    expect(replay.status).toBe(200);
    expect(handedOff()).toBe(2);
    expect(await server.db.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } })).toMatchObject({ engine: "recorded", engineId: `recorded:${run.id}` });

    // Once an engine has it, a replay leaves it alone.
    await zeta("POST", "/api/tasks", request, { "idempotency-key": "evt-stranded" });
    expect(handedOff()).toBe(2);
  });
});

describe.runIf(testDatabases.includes("postgres"))("teams do not wait on each other (PostgreSQL)", () => {
  it("creates in team B while team A's counter row is locked by another transaction", async () => {
    const server = await startTestServer("postgres");
    const pg = await import("pg");
    const blocker = new pg.default.Client({ connectionString: server.db.url });
    try {
      const a = await seedTeam(server.url, "Locked", { userId: "l1", repository: "locked/app" });
      const b = await seedTeam(server.url, "Free", { userId: "f1", repository: "free/app" });
      await blocker.connect();
      await blocker.query("BEGIN");
      await blocker.query("SELECT 1 FROM teams WHERE id = $1 FOR UPDATE", [a.team.id]);

      let aDone = false;
      const aPending = client(server.url, a.apiKey)("POST", "/api/tasks", body({ user_id: "l1", repository: "locked/app" })).then((r) => {
        aDone = true;
        return r;
      });
      const bResult = await client(server.url, b.apiKey)("POST", "/api/tasks", body({ user_id: "f1", repository: "free/app" }));
      expect(bResult.status).toBe(201);
      expect(aDone).toBe(false); // A is still waiting for the lock B never needed.

      await blocker.query("ROLLBACK");
      expect((await aPending).status).toBe(201);
    } finally {
      await blocker.end().catch(() => undefined);
      await server.close();
    }
  });
});
