// The gateway records usage per model through real requests: a real server with the gateway, a real
// database (PostgreSQL and PGlite) and a vendor stand-in that names the model in its answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRunModelUsage } from "../../src/db/run-model-usage.ts";
import { testDatabases } from "../helpers/databases.ts";
import { startModelGatewayHarness, type ModelGatewayHarness } from "../helpers/model-gateway-harness.ts";
import { sse, startFakeUpstream, type FakeUpstream } from "./fake-upstream.ts";

const claudeAnswer = (model: unknown) =>
  sse([
    { event: "message_start", data: { type: "message_start", message: { id: "m1", model, usage: { input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 1 } } } },
    { event: "message_delta", data: { type: "message_delta", usage: { output_tokens: 5 } } },
    { event: "message_stop", data: { type: "message_stop" } },
  ]);
const codexAnswer = sse([
  { data: { type: "response.created", response: { model: "gpt-5-codex", usage: null } } },
  { data: { type: "response.completed", response: { model: "gpt-5-codex", usage: { input_tokens: 200, input_tokens_details: { cached_tokens: 150 }, output_tokens: 40 } } } },
]);

describe.each(testDatabases)("model usage per model on %s", (kind) => {
  let upstream: FakeUpstream;
  let gateway: ModelGatewayHarness;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    gateway = await startModelGatewayHarness(kind, upstream.url);
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  const answerWith = (body: (requestBody: string) => string) =>
    upstream.answer((req, res) => void res.writeHead(200, { "content-type": "text/event-stream" }).end(body(req.body)));
  /** One call read to its end (the usage is recorded before the answer's last byte). */
  async function call(vendor: "anthropic" | "openai", token: string, model: string): Promise<void> {
    const path = vendor === "anthropic" ? "/model/anthropic/v1/messages" : "/model/openai/responses";
    const headers: Record<string, string> = vendor === "anthropic" ? { "x-api-key": token } : { authorization: `Bearer ${token}` };
    const answer = await fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ model, stream: true }) });
    expect(answer.status).toBe(200);
    await answer.text();
  }
  const rows = async (runId: string) => (await listRunModelUsage(gateway.db.prisma, [runId])).map(({ runId: _runId, ...row }) => row);

  it("adds each answer to its model's row and to the run's totals", async () => {
    const { runId, token } = await gateway.startRun();
    answerWith(() => claudeAnswer("claude-sonnet-4-5-20250929"));
    await call("anthropic", token, "claude-sonnet-4-5");
    await call("anthropic", token, "claude-sonnet-4-5");
    answerWith(() => codexAnswer);
    await call("openai", token, "gpt-5-codex");

    expect(await rows(runId)).toEqual([
      { model: "claude-sonnet-4-5-20250929", inputTokens: 120, outputTokens: 10, cacheReadTokens: 60, cacheWriteTokens: 40 },
      { model: "gpt-5-codex", inputTokens: 200, outputTokens: 40, cacheReadTokens: 150, cacheWriteTokens: 0 },
    ]);
    // The budget's totals are the sum over the models.
    expect(await gateway.usage(runId)).toEqual({ inputTokens: 320, outputTokens: 50 });
    // Another run's usage is its own.
    const other = await gateway.startRun();
    expect(await rows(other.runId)).toEqual([]);
  });

  it("loses no count when one run's answers for the same model arrive at once", async () => {
    const { runId, token } = await gateway.startRun();
    answerWith(() => claudeAnswer("claude-haiku-4-5-20251001"));
    await Promise.all(Array.from({ length: 8 }, () => call("anthropic", token, "claude-haiku-4-5")));
    expect(await rows(runId)).toEqual([{ model: "claude-haiku-4-5-20251001", inputTokens: 480, outputTokens: 40, cacheReadTokens: 240, cacheWriteTokens: 160 }]);
    expect(await gateway.usage(runId)).toEqual({ inputTokens: 480, outputTokens: 40 });
  });

  it("stores a hostile or missing model name bounded, as data, and a missing one as unknown", async () => {
    const { runId, token } = await gateway.startRun();
    const hostile = `'); DROP TABLE run_model_usage; --<script>\u0000${"z".repeat(500)}`;
    answerWith(() => claudeAnswer(hostile));
    await call("anthropic", token, hostile);
    answerWith(() => claudeAnswer(undefined));
    await call("anthropic", token, "claude-opus-4-5");
    answerWith(() => claudeAnswer({ nested: "object" }));
    await call("anthropic", token, "claude-opus-4-5");

    const stored = await rows(runId);
    expect(stored.map((row) => row.model)).toEqual([`'); DROP TABLE run_model_usage; --<script>${"z".repeat(58)}`, "unknown"]);
    expect(stored[1]).toMatchObject({ inputTokens: 120, outputTokens: 10 });
    expect(await gateway.usage(runId)).toEqual({ inputTokens: 180, outputTokens: 15 });
  });
});
