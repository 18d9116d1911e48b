// /metrics through the real server: real signed webhooks (accepted, repeated, refused), a label
// that creates a task, tasks created through the API and run by the embedded engine; the counters
// are read back from the Prometheus text the server serves.
import { randomUUID } from "node:crypto";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mintRunToken } from "../../src/gateway/run-tokens.ts";
import { installationEvent, issuesLabeled } from "../fixtures/webhooks.ts";
import { startFakeUpstream, type FakeUpstream } from "../gateway/fake-upstream.ts";
import { testDatabases } from "../helpers/databases.ts";
import { createFakeStageWork } from "../helpers/fake-stage-work.ts";
import { allowOnlyLocalhost, deliver, GitHubMock, githubAppEnv, sign, TestOctokit } from "../helpers/github.ts";
import { client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

/** One sample: the metric's name and its labels, as Prometheus' text format writes them. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((label) => [label[1]!, label[2]!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(server: { url: string }) {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = parseMetrics(await response.text());
  /** The sample with exactly these labels; 0 when there is none yet. */
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = samples.filter((sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`);
    return found[0]?.value ?? 0;
  };
  return { samples, value };
}

describe.each(testDatabases)("metrics after webhook traffic on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    allowOnlyLocalhost();
    server = await startTestServer(kind, { env: githubAppEnv, Octokit: TestOctokit });
    expect((await deliver(server.url, { event: "installation", payload: installationEvent("created", { account: "posthog", repositories: ["posthog/posthog"] }) })).status).toBe(202);
    await server.webhooksIdle();
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    await server?.close();
    nock.enableNetConnect();
  });

  it("counts deliveries by event and outcome, times them, and never names an unverified event", async () => {
    const before = await scrape(server);
    const id = randomUUID();
    const ping = { zen: "Keep it logically awesome.", hook_id: 1 };
    expect((await deliver(server.url, { event: "ping", payload: ping, id })).status).toBe(202);
    expect((await deliver(server.url, { event: "ping", payload: ping, id })).status).toBe(200);
    // Refused: a wrong signature and none at all, under event names only their sender vouches for.
    expect((await deliver(server.url, { event: "made_up_event", payload: ping, signature: sign("another body") })).status).toBe(401);
    expect((await deliver(server.url, { event: "also_made_up", payload: ping, signature: null })).status).toBe(401);
    expect((await deliver(server.url, { event: "ping", payload: ping, rawBody: "{not json" })).status).toBe(400);
    await server.webhooksIdle();

    const after = await scrape(server);
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(delta("tasks_webhook_deliveries_total", { event: "ping", outcome: "accepted" })).toBe(1);
    expect(delta("tasks_webhook_deliveries_total", { event: "ping", outcome: "duplicate" })).toBe(1);
    expect(delta("tasks_webhook_deliveries_total", { event: "unverified", outcome: "bad_signature" })).toBe(2);
    expect(delta("tasks_webhook_deliveries_total", { event: "unverified", outcome: "invalid_json" })).toBe(1);
    expect(after.samples.filter((sample) => /made_up/.test(sample.labels["event"] ?? ""))).toEqual([]);
    // Every answer is timed, under its outcome.
    expect(delta("tasks_webhook_ingress_seconds_count", { outcome: "accepted" })).toBe(1);
    expect(delta("tasks_webhook_ingress_seconds_count", { outcome: "bad_signature" })).toBe(2);
    expect(after.value("tasks_webhook_ingress_seconds_bucket", { outcome: "accepted", le: "+Inf" })).toBe(after.value("tasks_webhook_ingress_seconds_count", { outcome: "accepted" }));
    // The stored delivery's handlers ran once; the installation before it too.
    expect(delta("tasks_webhook_handled_total", { event: "ping", outcome: "handled" })).toBe(1);
    expect(after.value("tasks_webhook_handled_total", { event: "installation", outcome: "handled" })).toBe(1);
    expect(after.value("tasks_inbox_depth")).toBe(0);
  });

  it("counts a task a label created by its source, and the GitHub calls its handler made by status", async () => {
    const before = await scrape(server);
    const github = new GitHubMock().permission("octocat", "write").issueReaction(301).listComments([], 301).createComment(301);
    expect((await deliver(server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: 301 } }) })).status).toBe(202);
    await server.webhooksIdle();
    expect(github.pending()).toEqual([]);
    // A stranger's label: GitHub answers the permission check 404, and the refusal is a comment.
    const refused = new GitHubMock().notCollaborator("stranger").createComment(302);
    expect((await deliver(server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: 302 }, sender: { login: "stranger" } }) })).status).toBe(202);
    await server.webhooksIdle();
    expect(refused.pending()).toEqual([]);

    const after = await scrape(server);
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(delta("tasks_tasks_created_total", { source: "label" })).toBe(1);
    expect(delta("tasks_webhook_handled_total", { event: "issues", outcome: "handled" })).toBe(2);
    expect(delta("tasks_github_api_calls_total", { status: "200" })).toBe(2);
    expect(delta("tasks_github_api_calls_total", { status: "404" })).toBe(1);
    expect(delta("tasks_github_api_calls_total", { status: "201" })).toBeGreaterThanOrEqual(3);
  });

  it("counts a task created through the API under source api, and inbox depth counts what waits", async () => {
    const before = await scrape(server);
    const seed = await seedTeam(server.url, `Metrics ${kind}`);
    const created = await client(server.url, seed.apiKey)("POST", "/api/tasks", { title: "Count me", description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository });
    expect(created.status).toBe(201);
    // A bad request creates nothing and counts nothing.
    expect((await client(server.url, seed.apiKey)("POST", "/api/tasks", { title: "" })).status).toBe(400);
    // A delivery waiting for its retry an hour from now is in the inbox.
    await server.db.prisma.webhookDelivery.create({ data: { id: randomUUID(), event: "issues", status: "pending", nextAttemptAt: new Date(Date.now() + 3_600_000) } });

    const after = await scrape(server);
    expect(after.value("tasks_tasks_created_total", { source: "api" }) - before.value("tasks_tasks_created_total", { source: "api" })).toBe(1);
    expect(after.value("tasks_inbox_depth")).toBe(1);
    await server.db.prisma.webhookDelivery.deleteMany({ where: { status: "pending" } });
    expect((await scrape(server)).value("tasks_inbox_depth")).toBe(0);
  });

  it("includes the process's default metrics, and another server in the same process counts only its own", async () => {
    const own = await scrape(server);
    expect(own.value("tasks_process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(own.samples.some((sample) => sample.name === "tasks_nodejs_heap_size_used_bytes")).toBe(true);
    const other = await startTestServer(kind);
    try {
      const fresh = await scrape(other);
      expect(fresh.samples.filter((sample) => sample.name === "tasks_webhook_deliveries_total")).toEqual([]);
      expect(fresh.samples.filter((sample) => sample.name === "tasks_tasks_created_total")).toEqual([]);
    } finally {
      await other.close();
    }
    expect((await scrape(server)).value("tasks_webhook_deliveries_total", { event: "installation", outcome: "accepted" })).toBe(1);
  });
});

describe.each(testDatabases)("metrics of runs on the embedded engine on %s", (kind) => {
  let server: TestServer;
  // The first task's agents succeed; any other task's agent fails (its run starts before its id is known here).
  let succeeding = "";
  const work = createFakeStageWork({
    agent: (request) => (succeeding !== "" && request.taskId !== succeeding ? "fail" : { verdict: request.role === "reviewer" ? "approve" : null, outputRef: request.stage }),
  });
  beforeAll(async () => {
    server = await startTestServer(kind, { stageWork: work });
  });
  afterAll(async () => server?.close());

  it("counts runs by outcome and times each stage's steps", async () => {
    const seed = await seedTeam(server.url, `Runs ${kind}`);
    const api = client(server.url, seed.apiKey);
    const create = async (title: string) => {
      const created = await api("POST", "/api/tasks", { title, description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository });
      expect(created.status).toBe(201);
      return created.body.id as string;
    };
    const finished = (id: string) => waitFor(async () => ["completed", "failed"].includes((await api("GET", `/api/tasks/${id}`)).body.status), `task ${id} to finish`);

    succeeding = await create("Complete");
    await finished(succeeding);
    await finished(await create("Fail"));

    const metrics = await scrape(server);
    expect(metrics.value("tasks_runs_finished_total", { outcome: "completed" })).toBe(1);
    expect(metrics.value("tasks_runs_finished_total", { outcome: "failed" })).toBe(1);
    expect(metrics.value("tasks_stage_step_seconds_count", { stage: "plan", step: "agent", outcome: "ok" })).toBe(1);
    expect(metrics.value("tasks_stage_step_seconds_count", { stage: "plan", step: "agent", outcome: "error" })).toBe(1);
    expect(metrics.value("tasks_stage_step_seconds_count", { stage: "code", step: "agent", outcome: "ok" })).toBe(1);
    expect(metrics.value("tasks_stage_step_seconds_count", { stage: "review", step: "agent", outcome: "ok" })).toBe(1);
    expect(metrics.value("tasks_stage_step_seconds_count", { stage: "complete", step: "publish", outcome: "ok" })).toBe(1);
    expect(metrics.value("tasks_runner_runs", { state: "running" })).toBe(0);
    expect(metrics.value("tasks_runner_runs", { state: "queued" })).toBe(0);
  });
});

describe.each(testDatabases)("metrics of the model gateway on %s", (kind) => {
  let server: TestServer;
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    server = await startTestServer(kind, { env: { ANTHROPIC_BASE_URL: upstream.url, ANTHROPIC_API_KEY: "sk-ant-operator-key", OPENAI_BASE_URL: `${upstream.url}/v1`, OPENAI_API_KEY: "sk-openai-operator-key" } });
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it("counts the tokens the vendors' answers report, by vendor and kind", async () => {
    const seed = await seedTeam(server.url, `Tokens ${kind}`);
    const created = await client(server.url, seed.apiKey)("POST", "/api/tasks", { title: "Use the model", description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository });
    const run = await server.db.prisma.taskRun.findFirstOrThrow({ where: { taskId: created.body.id } });
    await server.db.prisma.taskRun.update({ where: { id: run.id }, data: { status: "running" } });
    const token = await mintRunToken(server.db.prisma, run.id);
    const call = async (vendorPath: string, usage: object) => {
      const body = vendorPath.startsWith("/model/anthropic/") ? { type: "message", usage } : { object: "response", usage };
      upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)));
      const answer = await fetch(`${server.url}${vendorPath}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: "{}" });
      expect(answer.status).toBe(200);
      await answer.text();
    };
    await call("/model/anthropic/v1/messages", { input_tokens: 3, output_tokens: 4 });
    await call("/model/anthropic/v1/messages", { input_tokens: 10, output_tokens: 1 });
    await call("/model/openai/responses", { input_tokens: 7, output_tokens: 8 });
    // Refused (no token): nothing reaches the vendor, nothing is counted.
    expect((await fetch(`${server.url}/model/openai/responses`, { method: "POST", body: "{}" })).status).toBe(401);

    // Usage is recorded as the answer ends; the run's total in the database is the same sum.
    await waitFor(async () => (await server.db.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } })).outputTokens === 13, "the usage recorded", 10_000);
    const metrics = await scrape(server);
    expect(metrics.value("tasks_model_tokens_total", { vendor: "anthropic", kind: "input" })).toBe(13);
    expect(metrics.value("tasks_model_tokens_total", { vendor: "anthropic", kind: "output" })).toBe(5);
    expect(metrics.value("tasks_model_tokens_total", { vendor: "openai", kind: "input" })).toBe(7);
    expect(metrics.value("tasks_model_tokens_total", { vendor: "openai", kind: "output" })).toBe(8);
  });
});
