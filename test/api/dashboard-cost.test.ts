// Usage and cost on the task page, end to end: model answers go through the server's own model
// gateway to a vendor stand-in naming the model, and the page shows each run's tokens per model,
// their cost at list prices (or that it is unknown), and the task's total.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintRunToken } from "../../src/gateway/run-tokens.ts";
import { sse, startFakeUpstream, type FakeUpstream } from "../gateway/fake-upstream.ts";
import { testDatabases } from "../helpers/databases.ts";
import { get, signIn, type Browserless } from "../helpers/dashboard.ts";
import { client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";

const hostileModel = "<img src=x onerror=alert(1)>";

/** Anthropic's stream for one message of `model` with the given usage. */
const claude = (model: string, usage: { input_tokens: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number; output_tokens: number }) =>
  sse([
    { event: "message_start", data: { type: "message_start", message: { id: "m", model, usage: { ...usage, output_tokens: 1 } } } },
    { event: "message_delta", data: { type: "message_delta", usage: { output_tokens: usage.output_tokens } } },
    { event: "message_stop", data: { type: "message_stop" } },
  ]);
const codex = sse([{ data: { type: "response.completed", response: { model: "gpt-5-codex", usage: { input_tokens: 200_000, input_tokens_details: { cached_tokens: 150_000 }, output_tokens: 40_000 } } } }]);

describe.each(testDatabases)("task page cost on %s", (kind) => {
  let upstream: FakeUpstream;
  let server: TestServer;
  let team: Awaited<ReturnType<typeof seedTeam>>;
  let session: Browserless;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    server = await startTestServer(kind, {
      env: { ANTHROPIC_API_KEY: "sk-ant-operator", ANTHROPIC_BASE_URL: upstream.url, OPENAI_API_KEY: "sk-operator", OPENAI_BASE_URL: `${upstream.url}/v1` },
    });
    team = await seedTeam(server.url, "Costs", { userId: "c1", repository: "costs/app" });
    session = await signIn(server.url, team.apiKey);
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  async function createTask(title: string) {
    const res = await client(server.url, team.apiKey)("POST", "/api/tasks", { title, description: "d", origin_product: "user_created", user_id: team.userId, repository: team.repository });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; slug: string };
  }
  /** A running run of the task with a gateway token, as an agent in its sandbox holds it. */
  async function runningRun(taskId: string, attempt: number): Promise<string> {
    const existing = await server.db.prisma.taskRun.findFirst({ where: { taskId, attempt } });
    const run = existing ?? (await server.db.prisma.taskRun.create({ data: { taskId, attempt } }));
    await server.db.prisma.taskRun.update({ where: { id: run.id }, data: { status: "running" } });
    return mintRunToken(server.db.prisma, run.id);
  }
  /** One model call through the server's gateway, read to the end (usage is recorded by then). */
  async function callModel(token: string, vendor: "anthropic" | "openai", answer: string): Promise<void> {
    upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "text/event-stream" }).end(answer));
    const path = vendor === "anthropic" ? "/model/anthropic/v1/messages" : "/model/openai/responses";
    const auth: Record<string, string> = vendor === "anthropic" ? { "x-api-key": token } : { authorization: `Bearer ${token}` };
    const res = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify({ model: "x", stream: true }) });
    expect(res.status).toBe(200);
    await res.text();
  }
  const runSection = (page: string, attempt: number) => page.split('<li class="run">')[attempt]!.split("</li>\n")[0]!;

  it("shows each run's tokens per model with its cost, and the task's total", async () => {
    const task = await createTask("Costly task");
    const first = await runningRun(task.id, 1);
    // Sonnet 4.5: 100k uncached × $3 + 300k cache reads × $0.30 + 20k cache writes × $3.75 + 11k out × $15 = $0.63.
    await callModel(first, "anthropic", claude("claude-sonnet-4-5-20250929", { input_tokens: 100_000, cache_read_input_tokens: 300_000, cache_creation_input_tokens: 20_000, output_tokens: 11_000 }));
    // GPT-5-Codex: 50k uncached × $1.25 + 150k cached × $0.125 + 40k out × $10 = $0.48125.
    await callModel(first, "openai", codex);
    await callModel(first, "anthropic", claude(hostileModel, { input_tokens: 5, output_tokens: 5 }));
    const second = await runningRun(task.id, 2);
    // Haiku 4.5: 1M in × $1 + 100k out × $5 = $1.50.
    await callModel(second, "anthropic", claude("claude-haiku-4-5-20251001", { input_tokens: 1_000_000, output_tokens: 100_000 }));

    const page = await get(server.url, `/tasks/${task.slug}`, session.cookie);
    expect(page.status).toBe(200);
    const run1 = runSection(page.text, 1);
    expect(run1).toContain('<span class="model">claude-sonnet-4-5-20250929</span>: 420,000 in (300,000 cache read, 20,000 cache write) · 11,000 out · <span class="cost">$0.63</span>');
    expect(run1).toContain('<span class="model">gpt-5-codex</span>: 200,000 in (150,000 cache read, 0 cache write) · 40,000 out · <span class="cost">$0.48</span>');
    // The unknown model is named (as text, never markup), and not priced.
    expect(run1).toContain('<span class="model">&lt;img src=x onerror=alert(1)&gt;</span>: 5 in · 5 out · <span class="cost">cost unknown for &lt;img src=x onerror=alert(1)&gt;</span>');
    expect(run1).toContain('Tokens: 620,005 in · 51,005 out · cost <span class="cost">$1.11 + cost unknown for &lt;img src=x onerror=alert(1)&gt;</span>');
    expect(page.text).not.toContain("<img src=x");
    const run2 = runSection(page.text, 2);
    expect(run2).toContain('<span class="model">claude-haiku-4-5-20251001</span>: 1,000,000 in · 100,000 out · <span class="cost">$1.50</span>');
    expect(run2).toContain('cost <span class="cost">$1.50</span>');
    // The task's total: $0.63 + $0.48125 + $1.50, and the model it could not price.
    expect(page.text).toContain('<dd id="task-cost">$2.61 + cost unknown for &lt;img src=x onerror=alert(1)&gt; <small>at list prices</small></dd>');

    // The API's task detail carries the same usage per run and model, with null for an unknown cost.
    const detail = (await client(server.url, team.apiKey)("GET", `/api/tasks/${task.id}`)).body as { runs: { attempt: number; models: { model: string; cost_usd: number | null }[] }[] };
    const byModel = (models: { model: string }[]) => [...models].sort((a, b) => (a.model < b.model ? -1 : 1));
    expect(byModel(detail.runs[0]!.models)).toEqual([
      { model: hostileModel, input_tokens: 5, output_tokens: 5, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: null },
      { model: "claude-sonnet-4-5-20250929", input_tokens: 420_000, output_tokens: 11_000, cache_read_tokens: 300_000, cache_write_tokens: 20_000, cost_usd: expect.closeTo(0.63, 10) },
      { model: "gpt-5-codex", input_tokens: 200_000, output_tokens: 40_000, cache_read_tokens: 150_000, cache_write_tokens: 0, cost_usd: expect.closeTo(0.48125, 10) },
    ]);
    expect(detail.runs[1]!.models).toEqual([
      { model: "claude-haiku-4-5-20251001", input_tokens: 1_000_000, output_tokens: 100_000, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: expect.closeTo(1.5, 10) },
    ]);
    // Another team sees none of it.
    const other = await seedTeam(server.url, "Others", { userId: "o1", repository: "others/app" });
    expect((await client(server.url, other.apiKey)("GET", `/api/tasks/${task.id}`)).status).toBe(404);
    expect((await get(server.url, `/tasks/${task.slug}`, (await signIn(server.url, other.apiKey)).cookie)).text).not.toContain("claude-sonnet-4-5-20250929");
  });

  it("shows $0.00 before any model call, a few tokens as under a cent, and only unknown models as unknown", async () => {
    const idle = await createTask("Idle task");
    expect((await get(server.url, `/tasks/${idle.slug}`, session.cookie)).text).toContain('<dd id="task-cost">$0.00 <small>at list prices</small></dd>');

    const tiny = await createTask("Tiny task");
    await callModel(await runningRun(tiny.id, 1), "anthropic", claude("claude-opus-4-5-20251101", { input_tokens: 10, output_tokens: 10 }));
    const tinyPage = (await get(server.url, `/tasks/${tiny.slug}`, session.cookie)).text;
    expect(tinyPage).toContain('<dd id="task-cost">&lt; $0.01 <small>at list prices</small></dd>');

    const unpriced = await createTask("Unpriced task");
    await callModel(await runningRun(unpriced.id, 1), "openai", codex.replaceAll("gpt-5-codex", "gpt-9-future"));
    const unpricedPage = (await get(server.url, `/tasks/${unpriced.slug}`, session.cookie)).text;
    expect(unpricedPage).toContain('<dd id="task-cost">cost unknown for gpt-9-future <small>at list prices</small></dd>');
    expect(unpricedPage).toContain('<span class="model">gpt-9-future</span>: 200,000 in (150,000 cache read, 0 cache write) · 40,000 out · <span class="cost">cost unknown for gpt-9-future</span>');
  });
});
