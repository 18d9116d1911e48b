// The model gateway over real HTTP: a real server with the gateway's handler, a real database
// (PostgreSQL and PGlite) and a fake vendor on 127.0.0.1 that records what reached it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../src/config.ts";
import { createModelGateway } from "../../src/gateway/create-model-gateway.ts";
import { mintRunToken, revokeRunToken } from "../../src/gateway/run-tokens.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";
import { sse, startFakeUpstream, type FakeUpstream } from "./fake-upstream.ts";

const log = pino({ level: "silent" });
const anthropicKey = "sk-ant-server-key";
const openaiKey = "sk-server-openai-key";
const budget = 1_000;

const anthropicStream = sse([
  { event: "message_start", data: { type: "message_start", message: { id: "m1", usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 } } } },
  { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "\"input_tokens\": 999" } } },
  { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 42 } } },
  { event: "message_stop", data: { type: "message_stop" } },
]);

describe.each(testDatabases)("model gateway on %s", (kind) => {
  let db: TestDatabase;
  let upstream: FakeUpstream;
  let server: http.Server;
  let base: string;
  // Mutable, so a test can take the server's key away.
  let settings: { anthropic: { baseUrl: string; apiKey: string | undefined }; openai: Config["gateway"]["openai"]; runTokenBudget: number };
  let runId: string;
  let taskId: string;
  let tasks: ReturnType<typeof createTasksService>;
  let token: string;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    upstream = await startFakeUpstream();
    settings = { anthropic: { baseUrl: upstream.url, apiKey: anthropicKey }, openai: { baseUrl: `${upstream.url}/v1`, apiKey: openaiKey }, runTokenBudget: budget };
    const handle = createModelGateway({ db: db.prisma, settings, log });
    server = http.createServer((req, res) => void handle(req, res).then((handled) => handled || res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await upstream?.close();
    await db?.close();
  });

  beforeEach(async () => {
    const flags = createLocalFlagChecker(db.prisma);
    tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam(`Gateway ${Math.random().toString(36).slice(2, 8)}`);
    await tasks.addTeamMember(team.id, { externalId: `gw-${team.id}` });
    await tasks.addIntegration(team.id, { installationId: Math.floor(Math.random() * 1e9), repositories: ["local/app"] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "Use the model", description: "d", originProduct: "user_created", userId: `gw-${team.id}`, repository: "local/app" });
    taskId = task.id;
    runId = (await tasks.getTask(undefined, task.id)).runs[0]!.id;
    await db.prisma.taskRun.update({ where: { id: runId }, data: { status: "running" } });
    token = await mintRunToken(db.prisma, runId);
    settings.anthropic.apiKey = anthropicKey;
    upstream.requests.length = 0;
  });

  const usage = () => db.prisma.taskRun.findUniqueOrThrow({ where: { id: runId }, select: { inputTokens: true, outputTokens: true } });
  const anthropic = (headers: Record<string, string>, body: object = { model: "claude", stream: true }) =>
    fetch(`${base}/model/anthropic/v1/messages?beta=true`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const openai = (headers: Record<string, string>, body: object = { model: "gpt-5-codex", stream: true }) =>
    fetch(`${base}/model/openai/responses`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  it("refuses a missing, unknown, revoked or finished run's token with 401 and says why", async () => {
    const missing = await anthropic({});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ type: "error", error: { type: "authentication_error", message: expect.stringContaining("a run token is required") } });

    const unknown = await openai({ authorization: "Bearer tgw_" + "x".repeat(43) });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ error: { message: expect.stringContaining("unknown or revoked"), type: "invalid_request_error", code: "invalid_api_key", param: null } });

    const older = token;
    token = await mintRunToken(db.prisma, runId);
    expect((await anthropic({ "x-api-key": older })).status).toBe(401);

    await db.prisma.taskRun.update({ where: { id: runId }, data: { status: "completed" } });
    const finished = await anthropic({ "x-api-key": token });
    expect(finished.status).toBe(401);
    expect(((await finished.json()) as { error: { message: string } }).error.message).toContain("run is completed, not running");

    await db.prisma.taskRun.update({ where: { id: runId }, data: { status: "running" } });
    await revokeRunToken(db.prisma, runId);
    expect((await anthropic({ authorization: `Bearer ${token}` })).status).toBe(401);
    expect(upstream.requests).toEqual([]);
  });

  it("forwards with the operator's key, never the run token, to the upstream's path", async () => {
    upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ type: "message", usage: { input_tokens: 3, output_tokens: 4 } })));
    const answer = await anthropic({ "x-api-key": token, authorization: `Bearer ${token}`, "anthropic-version": "2023-06-01", cookie: "a=b" }, { model: "claude", stream: false });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ type: "message", usage: { input_tokens: 3, output_tokens: 4 } });

    const [seen] = upstream.requests;
    expect(seen?.url).toBe("/v1/messages?beta=true");
    expect(seen?.headers["x-api-key"]).toBe(anthropicKey);
    expect(seen?.headers["authorization"]).toBeUndefined();
    expect(seen?.headers["cookie"]).toBeUndefined();
    expect(seen?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(seen?.body).toBe(JSON.stringify({ model: "claude", stream: false }));
    expect(JSON.stringify(seen?.headers)).not.toContain(token);
    expect(await usage()).toEqual({ inputTokens: 3, outputTokens: 4 });

    upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "response", usage: { input_tokens: 7, output_tokens: 8, total_tokens: 15 } })));
    const secondAnswer = await openai({ authorization: `Bearer ${token}` }, { stream: false });
    expect(secondAnswer.status).toBe(200);
    // Usage is recorded before the answer's last byte: read it to the end, as a client does.
    expect(await secondAnswer.json()).toMatchObject({ object: "response" });
    const second = upstream.requests[1];
    expect(second?.url).toBe("/v1/responses");
    expect(second?.headers["authorization"]).toBe(`Bearer ${openaiKey}`);
    expect(JSON.stringify(second?.headers)).not.toContain(token);
    expect(await usage()).toEqual({ inputTokens: 10, outputTokens: 12 });
    // The task API's run view shows it.
    expect((await tasks.getTask(undefined, taskId)).runs[0]).toMatchObject({ input_tokens: 10, output_tokens: 12 });
  });

  it("streams each event to the client before the upstream sends the next, and records the stream's usage", async () => {
    const cut = anthropicStream.indexOf("\n\n") + 2;
    const [first, rest] = [anthropicStream.slice(0, cut), anthropicStream.slice(cut)];
    let clientSawFirst!: () => void;
    const firstArrived = new Promise<void>((resolve) => (clientSawFirst = resolve));
    upstream.answer(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(first);
      // The rest is sent only once the client has read the first event through the gateway.
      await firstArrived;
      res.end(rest);
    });

    const answer = await anthropic({ "x-api-key": token });
    expect(answer.headers.get("content-type")).toBe("text/event-stream");
    const reader = answer.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    while (!received.includes("\n\n")) received += decoder.decode((await reader.read()).value);
    expect(received).toBe(first);
    clientSawFirst();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += decoder.decode(chunk.value);
    expect(received).toBe(anthropicStream);
    expect(await usage()).toEqual({ inputTokens: 15, outputTokens: 42 });
  });

  it("records an OpenAI Responses stream's usage from response.completed, however it is chunked", async () => {
    const body = sse([
      { event: "response.created", data: { type: "response.created", response: { id: "r1", usage: null } } },
      { event: "response.output_text.delta", data: { type: "response.output_text.delta", delta: "hi" } },
      { event: "response.completed", data: { type: "response.completed", response: { id: "r1", usage: { input_tokens: 120, output_tokens: 30, total_tokens: 150 } } } },
    ]);
    upstream.answer(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      for (let i = 0; i < body.length; i += 7) res.write(body.slice(i, i + 7));
      res.end();
    });
    const answer = await openai({ authorization: `Bearer ${token}` });
    expect(await answer.text()).toBe(body);
    expect(await usage()).toEqual({ inputTokens: 120, outputTokens: 30 });
  });

  it("passes the upstream's status and error body through", async () => {
    const overloaded = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    upstream.answer((_req, res) => void res.writeHead(529, { "content-type": "application/json", "retry-after": "3" }).end(overloaded));
    const first = await anthropic({ "x-api-key": token });
    expect(first.status).toBe(529);
    expect(first.headers.get("retry-after")).toBe("3");
    expect(await first.text()).toBe(overloaded);

    const invalid = JSON.stringify({ error: { message: "bad input", type: "invalid_request_error", param: "input", code: null } });
    upstream.answer((_req, res) => void res.writeHead(400, { "content-type": "application/json" }).end(invalid));
    const second = await openai({ authorization: `Bearer ${token}` });
    expect(second.status).toBe(400);
    expect(await second.text()).toBe(invalid);
    expect(await usage()).toEqual({ inputTokens: 0, outputTokens: 0 });
  });

  it("refuses a run past its budget with 402, naming the budget, without calling the upstream", async () => {
    upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ type: "message", usage: { input_tokens: 900, output_tokens: 150 } })));
    const spent = await anthropic({ "x-api-key": token }, { stream: false });
    expect(spent.status).toBe(200);
    await spent.text(); // the usage is recorded by the answer's last byte

    const refused = await anthropic({ "x-api-key": token });
    expect(refused.status).toBe(402);
    expect(await refused.json()).toEqual({ type: "error", error: { type: "billing_error", message: expect.stringContaining("token budget exceeded (1050 of 1000)") } });
    const refusedOpenai = await openai({ authorization: `Bearer ${token}` });
    expect(refusedOpenai.status).toBe(402);
    expect(((await refusedOpenai.json()) as { error: { code: string } }).error.code).toBe("token_budget_exceeded");
    expect(upstream.requests).toHaveLength(1);
  });

  it("forwards only the model endpoints and says which key the server lacks", async () => {
    const files = await fetch(`${base}/model/anthropic/v1/files`, { headers: { "x-api-key": token } });
    expect(files.status).toBe(404);
    expect(((await files.json()) as { error: { message: string } }).error.message).toContain("/v1/files is not a model endpoint");

    settings.anthropic.apiKey = undefined;
    const unconfigured = await anthropic({ "x-api-key": token });
    expect(unconfigured.status).toBe(503);
    expect(((await unconfigured.json()) as { error: { message: string } }).error.message).toContain("ANTHROPIC_API_KEY is not set");
    expect(upstream.requests).toEqual([]);
  });
});
