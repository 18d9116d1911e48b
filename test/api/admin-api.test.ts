// The admin API the operator CLI uses, the OpenAPI document and the health check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { adminToken, client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";

describe.each(testDatabases)("admin API on %s", (kind) => {
  let server: TestServer;
  let admin: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startTestServer(kind);
    admin = client(server.url, adminToken);
  });
  afterAll(async () => server?.close());

  it("refuses requests without the admin token, and refuses a team API key", async () => {
    expect((await client(server.url)("GET", "/api/admin/teams")).status).toBe(401);
    expect((await client(server.url, "wrong-token")("POST", "/api/admin/teams", { name: "x" })).status).toBe(401);
    const seed = await seedTeam(server.url, "Keyholders", { userId: "k1", repository: "keys/app" });
    expect((await client(server.url, seed.apiKey)("GET", "/api/admin/teams")).status).toBe(401);
  });

  it("creates a team with a prefix and the default workflow Plan → Code → Review → Complete", async () => {
    const res = await admin("POST", "/api/admin/teams", { name: "Support Queue" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), name: "Support Queue", prefix: "SUP" });
    const team = await server.db.prisma.team.findUniqueOrThrow({
      where: { id: res.body.id },
      include: { defaultWorkflow: { include: { stages: { orderBy: { position: "asc" } } } } },
    });
    expect(team.defaultWorkflow!.stages.map((s) => [s.key, s.name, s.agentRole, s.requiresApproval, s.opensPullRequest])).toEqual([
      ["plan", "Plan", "planner", false, false],
      ["code", "Code", "coder", false, false],
      ["review", "Review", "reviewer", false, false],
      ["complete", "Complete", null, false, true],
    ]);

    const duplicate = await admin("POST", "/api/admin/teams", { name: "Support Queue" });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toMatchObject({ code: "team_exists", field: "name" });
    expect((await admin("GET", "/api/admin/teams")).body.teams.map((t: { name: string }) => t.name)).toContain("Support Queue");
  });

  it("adds users idempotently and refuses a GitHub login that belongs to someone else", async () => {
    await admin("POST", "/api/admin/teams", { name: "Users team" });
    const first = await admin("POST", "/api/admin/teams/Users%20team/users", { user_id: "u1", github_login: "octocat", email: "o@example.com" });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ external_id: "u1", github_login: "octocat", email: "o@example.com" });
    const again = await admin("POST", "/api/admin/teams/Users%20team/users", { user_id: "u1" });
    expect(again.body).toMatchObject({ id: first.body.id, github_login: "octocat" });
    const taken = await admin("POST", "/api/admin/teams/Users%20team/users", { user_id: "u2", github_login: "octocat" });
    expect(taken.status).toBe(409);
    expect(taken.body.error.field).toBe("github_login");
    const badEmail = await admin("POST", "/api/admin/teams/Users%20team/users", { user_id: "u3", email: "not-an-email" });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.error.field).toBe("email");
    expect((await admin("POST", "/api/admin/teams/Nope/users", { user_id: "u4" })).status).toBe(404);
  });

  it("links an installation to one team only and validates repositories", async () => {
    await admin("POST", "/api/admin/teams", { name: "Installers" });
    await admin("POST", "/api/admin/teams", { name: "Rivals" });
    const linked = await admin("POST", "/api/admin/teams/Installers/integrations", { installation_id: 555, repositories: ["Org/Repo-One"] });
    expect(linked.status).toBe(201);
    expect(linked.body.repositories).toEqual(["org/repo-one"]);
    const more = await admin("POST", "/api/admin/teams/Installers/integrations", { installation_id: 555, repositories: ["org/repo-two", "org/repo-one"] });
    expect(more.body.repositories).toEqual(["org/repo-one", "org/repo-two"]);
    const rival = await admin("POST", "/api/admin/teams/Rivals/integrations", { installation_id: 555, repositories: ["org/x"] });
    expect(rival.status).toBe(409);
    expect(rival.body.error.code).toBe("installation_taken");
    const bad = await admin("POST", "/api/admin/teams/Installers/integrations", { installation_id: 556, repositories: ["ok/repo", "not a repo"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "invalid_repository", field: "repositories[1]" });
    expect((await admin("POST", "/api/admin/teams/Installers/integrations", { installation_id: -1, repositories: ["a/b"] })).body.error.field).toBe("installation_id");
  });

  it("sets flags per team and creates keys that are stored only hashed", async () => {
    await admin("POST", "/api/admin/teams", { name: "Flaggers" });
    const off = await admin("PUT", "/api/admin/teams/Flaggers/flags/tasks", { enabled: false });
    expect(off.body).toEqual({ team: "Flaggers", flag: "tasks", enabled: false, source: "local" });
    expect((await admin("PUT", "/api/admin/teams/Flaggers/flags/tasks", { enabled: "no" })).status).toBe(400);
    expect((await admin("PUT", "/api/admin/teams/Flaggers/flags/BAD%20FLAG", { enabled: true })).body.error.field).toBe("flag");

    const key = await admin("POST", "/api/admin/teams/Flaggers/api-keys", { name: "ci" });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^tsk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const stored = await server.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.body.id } });
    expect(stored.lastUsedAt).toBeNull();
    await client(server.url, key.body.key)("GET", "/api/tasks");
    expect((await server.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.body.id } })).lastUsedAt).toBeInstanceOf(Date);
    const secret = (key.body.key as string).slice("tsk_".length + 12 + 1);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(Buffer.from(stored.secretHash).toString("base64url")).not.toBe(secret);
  });

  it("lists and shows tasks of every team, and cancels as the operator", async () => {
    const seed = await seedTeam(server.url, "Operated", { userId: "op", repository: "op/app" });
    const task = await client(server.url, seed.apiKey)("POST", "/api/tasks", {
      title: "t", description: "d", origin_product: "support_queue", user_id: "op", repository: "op/app",
    });
    const list = await admin("GET", "/api/admin/tasks?team=Operated");
    expect(list.body.tasks.map((t: { id: string }) => t.id)).toEqual([task.body.id]);
    expect((await admin("GET", `/api/admin/tasks/${task.body.id}`)).body.runs).toHaveLength(1);
    const cancelled = await admin("POST", `/api/admin/tasks/${task.body.id}/cancel`);
    expect(cancelled.body.status).toBe("cancelled");
    const events = (await admin("GET", `/api/admin/tasks/${task.body.id}`)).body.events;
    expect(events.at(-1)).toMatchObject({ type: "task_cancelled", message: "cancelled by operator" });
    expect((await admin("GET", "/api/admin/tasks?team=Unknown")).status).toBe(404);
  });
});

describe("OpenAPI document and health", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("pglite");
  });
  afterAll(async () => server?.close());

  it("serves an OpenAPI 3.1 document generated from the validating schemas", async () => {
    const res = await client(server.url)("GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/tasks", "/api/tasks/{task}", "/api/tasks/{task}/run", "/api/tasks/{task}/cancel", "/api/tasks/{task}/stage", "/api/admin/teams"]),
    );
    const create = doc.components.schemas.CreateTask;
    expect(create.required.sort()).toEqual(["description", "origin_product", "repository", "title", "user_id"]);
    expect(create.additionalProperties).toBe(false);
    expect(create.properties.origin_product.enum).toEqual(["error_tracking", "eval_clusters", "user_created", "support_queue", "session_summaries"]);
    expect(Object.keys(doc.paths["/api/tasks"].post.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "403", "409", "422"]));
    expect(doc.components.securitySchemes.teamApiKey).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("reports health", async () => {
    const res = await client(server.url)("GET", "/health");
    expect(res.body).toMatchObject({ status: "ok", database: "pglite" });
  });
});
