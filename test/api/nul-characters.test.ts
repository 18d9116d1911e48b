// PostgreSQL cannot store NUL in text. The schema fuzzer (test/hardening/api-schema-fuzz.test.ts)
// found strings with NUL in queries, paths and bodies reaching the database as 500s; every one
// must be refused as bad input, naming the field, before anything is written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { adminToken, client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";

describe.each(testDatabases)("NUL characters in API input on %s", (kind) => {
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

  const task = { title: "t", description: "d", origin_product: "error_tracking", user_id: "42", repository: "posthog/posthog" };

  it.each([
    ["a task list's stage", "team", "GET", "/api/tasks?stage=co%00de", undefined, "invalid_query", "stage"],
    ["a task list's origin_product", "team", "GET", "/api/tasks?origin_product=a%00", undefined, "invalid_query", "origin_product"],
    ["a task's user_id", "team", "POST", "/api/tasks", { ...task, user_id: "4\u00002" }, "invalid_body", "user_id"],
    ["a team name", "admin", "POST", "/api/admin/teams", { name: "x\u0000y" }, "invalid_body", "name"],
    ["a team in the path", "admin", "POST", "/api/admin/teams/Post%00Hog/users", { user_id: "7" }, "invalid_path", "team"],
    ["an admin task list's team", "admin", "GET", "/api/admin/tasks?team=a%00", undefined, "invalid_query", "team"],
    ["an API key name", "admin", "POST", "/api/admin/teams/PostHog/api-keys", { name: "k\u0000" }, "invalid_body", "name"],
    ["an integration's account", "admin", "POST", "/api/admin/teams/PostHog/integrations", { installation_id: 5, account: "a\u0000", repositories: ["a/b"] }, "invalid_body", "account"],
    ["a delivery id", "admin", "POST", "/api/admin/deliveries/d%00/retry", undefined, "invalid_path", "delivery"],
  ])("refuses NUL in %s with 400 naming the field", async (_name, who, method, path, body, code, field) => {
    const res = await (who === "team" ? api : admin)(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code, field, message: `${field}: must not contain NUL characters` });
  });

  it("writes nothing for a refused request", async () => {
    const before = (await admin("GET", "/api/admin/teams")).body.teams.length;
    expect((await admin("POST", "/api/admin/teams", { name: "Nul\u0000Team" })).status).toBe(400);
    expect((await admin("GET", "/api/admin/teams")).body.teams).toHaveLength(before);
  });
});
