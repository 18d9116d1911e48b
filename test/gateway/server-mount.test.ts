// The gateway on the app's own port: the production server answers /model/<vendor>/… with it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintRunToken } from "../../src/gateway/run-tokens.ts";
import { testDatabases } from "../helpers/databases.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { startFakeUpstream, type FakeUpstream } from "./fake-upstream.ts";

describe.each(testDatabases)("the model gateway in the server on %s", (kind) => {
  let server: TestServer;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    server = await startTestServer(kind, { env: { OPENAI_BASE_URL: `${upstream.url}/v1`, OPENAI_API_KEY: "sk-server-openai" } });
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it("serves /model/openai/* on the app's port with the configured upstream and key", async () => {
    const team = await server.tasks.createTeam("Mount");
    await server.tasks.addTeamMember(team.id, { externalId: "mount-user" });
    await server.tasks.addIntegration(team.id, { installationId: 77, repositories: ["local/app"] });
    const { task } = await server.tasks.createAndRun({ teamId: team.id, title: "t", description: "d", originProduct: "user_created", userId: "mount-user", repository: "local/app" });
    const runId = (await server.tasks.getTask(undefined, task.id)).runs[0]!.id;
    await server.db.prisma.taskRun.update({ where: { id: runId }, data: { status: "running" } });
    const token = await mintRunToken(server.db.prisma, runId);
    upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ usage: { input_tokens: 2, output_tokens: 3 } })));

    const refused = await fetch(`${server.url}/model/openai/responses`, { method: "POST", body: "{}" });
    expect(refused.status).toBe(401);
    const answer = await fetch(`${server.url}/model/openai/responses`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: '{"model":"gpt-5-codex"}' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ usage: { input_tokens: 2, output_tokens: 3 } }); // usage is recorded by the last byte
    expect(upstream.requests.map((r) => [r.url, r.headers["authorization"], r.body])).toEqual([["/v1/responses", "Bearer sk-server-openai", '{"model":"gpt-5-codex"}']]);
    expect((await server.tasks.getTask(undefined, task.id)).runs[0]).toMatchObject({ input_tokens: 2, output_tokens: 3 });
  });
});
