// The server's default engine end to end: a task created over HTTP runs on the embedded runner
// through every stage, and a restart of the server resumes what was left unfinished.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/server.ts";
import { openTestDatabase } from "../helpers/databases.ts";
import { adminToken, client, freePort, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";
import { createFakeStageWork } from "../helpers/fake-stage-work.ts";

describe("the server runs tasks on the embedded runner by default", () => {
  let server: TestServer;
  const work = createFakeStageWork();
  beforeAll(async () => {
    server = await startTestServer("pglite", { stageWork: work });
  });
  afterAll(async () => server?.close());

  it("takes a task created over HTTP from Plan to a pull request", async () => {
    const seed = await seedTeam(server.url);
    const api = client(server.url, seed.apiKey);
    const created = await api("POST", "/api/tasks", { title: "t", description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository });
    expect(created.status).toBe(201);
    let detail = (await api("GET", `/api/tasks/${created.body.id}`)).body;
    for (let i = 0; i < 1200 && detail.status !== "completed"; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      detail = (await api("GET", `/api/tasks/${created.body.id}`)).body;
    }
    expect(detail).toMatchObject({ status: "completed", stage: { key: "complete" }, pr_url: "https://github.com/posthog/posthog/pull/1" });
    expect(detail.runs[0]).toMatchObject({ status: "completed", engine: "embedded" });
    expect(work.agentCalls.map((c) => c.role)).toEqual(["planner", "coder", "reviewer"]);
  });
});

describe("without stage work configured", () => {
  it("fails the first agent stage at once with a reason that says what is missing", async () => {
    const db = await openTestDatabase("pglite");
    const dataDir = await mkdtemp(path.join(tmpdir(), "tasks-default-engine-"));
    const config = loadConfig({ PORT: String(await freePort()), HOST: "127.0.0.1", TASKS_DATA_DIR: dataDir, TASKS_ADMIN_TOKEN: adminToken });
    const server = await startServer(config, pino({ level: "silent" }), { database: db });
    try {
      const seed = await seedTeam(server.url);
      const api = client(server.url, seed.apiKey);
      const created = await api("POST", "/api/tasks", { title: "t", description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository });
      let detail = (await api("GET", `/api/tasks/${created.body.id}`)).body;
      for (let i = 0; i < 1200 && detail.status !== "failed"; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        detail = (await api("GET", `/api/tasks/${created.body.id}`)).body;
      }
      expect(detail).toMatchObject({ status: "failed", stage: { key: "plan" } });
      // What is missing and how to set it, in the words of tasks/setup-status.ts.
      const error: string = detail.runs[0].error;
      expect(error).toMatch(/^failed in Plan: this server cannot run agents yet\. No GitHub App is configured/);
      expect(error).toContain(`Open ${config.server.publicUrl} to register the GitHub App`);
      expect(error).toContain("`tasks run --repo-path <directory>`");
      expect(error).toContain("Set ANTHROPIC_API_KEY, or set TASKS_AGENT=command with TASKS_AGENT_COMMAND");
    } finally {
      await server.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
