// The webhook ingress through the real server: signatures, malformed and oversized bodies,
// unknown events, and dedupe of redelivered and concurrent copies.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWebhookIngress } from "../../src/app/webhook-ingress.ts";
import { issuesLabeled, installationEvent } from "../fixtures/webhooks.ts";
import { testDatabases } from "../helpers/databases.ts";
import { allowOnlyLocalhost, deliver, GitHubMock, githubAppEnv, sign, TestOctokit, webhookSecret } from "../helpers/github.ts";
import { answerBeforeBody, openWebhookRequest } from "../helpers/raw-webhook-request.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

describe.each(testDatabases)("webhook ingress on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    allowOnlyLocalhost();
    server = await startTestServer(kind, { env: githubAppEnv, Octokit: TestOctokit });
    await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) });
    await server.webhooksIdle();
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    await server?.close();
    nock.enableNetConnect();
  });

  const deliveries = () => server.db.prisma.webhookDelivery.count();

  it.each([
    ["missing", null],
    ["wrong", sign("something else")],
    ["of the wrong length", "sha256=abc123"],
    ["not hex", `sha256=${"z".repeat(64)}`],
    ["sha1 only (legacy header)", "sha1=0123456789abcdef0123456789abcdef01234567"],
  ])("refuses a signature that is %s and records nothing", async (_name, signature) => {
    const before = await deliveries();
    const payload = issuesLabeled("task");
    const res = await deliver(server.url, { event: "issues", payload, signature, headers: signature?.startsWith("sha1=") ? { "x-hub-signature": signature } : {} });
    expect(res.status).toBe(401);
    expect(await deliveries()).toBe(before);
    expect(await server.db.prisma.task.count()).toBe(0);
  });

  it("refuses malformed JSON and non-object payloads with 400", async () => {
    expect((await deliver(server.url, { event: "issues", payload: null, rawBody: '{"action": ' })).status).toBe(400);
    expect((await deliver(server.url, { event: "issues", payload: null, rawBody: "[1,2]" })).status).toBe(400);
    expect((await deliver(server.url, { event: "issues", payload: {}, headers: { "x-github-delivery": "" } })).status).toBe(400);
  });

  it("refuses a body over 25 MB with 413 from its Content-Length, and closes the connection", async () => {
    const body = JSON.stringify({ blob: "x".repeat(26 * 1024 * 1024) });
    const req = openWebhookRequest(`${server.url}/api/github/webhooks`, {
      "content-type": "application/json",
      "content-length": String(body.length),
      "x-github-event": "issues",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(body),
    });
    const answer = await answerBeforeBody(req);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    await req.closed;
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("refuses a delivery that is not application/json with 415", async () => {
    const res = await deliver(server.url, { event: "issues", payload: issuesLabeled("task"), headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(415);
    expect(await server.db.prisma.task.count()).toBe(0);
  });

  it("answers unknown events and actions with 2xx and does nothing", async () => {
    expect((await deliver(server.url, { event: "star", payload: { action: "created", starred_at: null } })).status).toBe(202);
    expect((await deliver(server.url, { event: "issues", payload: { ...issuesLabeled("task"), action: "pinned" } })).status).toBe(202);
    await server.webhooksIdle();
    expect(await server.db.prisma.task.count()).toBe(0);
  });

  it("turns 20 concurrent copies of one delivery into one task, and a redelivery into nothing", async () => {
    const github = new GitHubMock().permission("octocat", "write").issueReaction().listComments().createComment();
    const payload = issuesLabeled("task", { sender: { login: "octocat" } });
    const id = "5f2e0a10-0000-4000-8000-000000000001";
    const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(server.url, { event: "issues", payload, id })));
    expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(19);
    await server.webhooksIdle();
    expect((await deliver(server.url, { event: "issues", payload, id })).status).toBe(200);
    await server.webhooksIdle();
    expect(await server.db.prisma.task.count()).toBe(1);
    expect(github.pending()).toEqual([]);
  });
});

describe("a delivery whose handling failed", () => {
  it("is handled again when GitHub redelivers it", async () => {
    allowOnlyLocalhost();
    const server = await startTestServer("pglite", { env: githubAppEnv, Octokit: TestOctokit });
    try {
      await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) });
      await server.webhooksIdle();
      const id = "5f2e0a10-0000-4000-8000-0000000000ff";
      const payload = issuesLabeled("task");
      // GitHub's API fails while the first delivery is handled.
      const failing = nock("https://api.github.com").post("/app/installations/4242/access_tokens").optionally().reply(201, { token: "t", expires_at: "2999-01-01T00:00:00Z" })
        .get("/repos/posthog/posthog/collaborators/octocat/permission").reply(502, { message: "Bad Gateway" });
      expect((await deliver(server.url, { event: "issues", payload, id })).status).toBe(202);
      await server.webhooksIdle();
      expect(failing.pendingMocks()).toEqual([]);
      expect(await server.db.prisma.task.count()).toBe(0);

      const github = new GitHubMock().permission("octocat", "write").issueReaction().listComments().createComment();
      expect((await deliver(server.url, { event: "issues", payload, id })).status).toBe(202);
      await server.webhooksIdle();
      expect(await server.db.prisma.task.count()).toBe(1);
      expect(github.pending()).toEqual([]);
    } finally {
      await server.close();
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });
});

describe("webhook ingress without a configured app", () => {
  it("refuses every delivery", async () => {
    const server = await startTestServer("pglite");
    try {
      const res = await deliver(server.url, { event: "issues", payload: issuesLabeled("task") });
      expect(res.status).toBe(401);
      expect(await server.db.prisma.webhookDelivery.count()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe("webhook ingress whose store fails", () => {
  it("answers 500 once the body was read, rather than leaving GitHub waiting", async () => {
    const ingress = createWebhookIngress({
      path: "/hooks",
      secret: webhookSecret,
      store: { store: () => Promise.reject(new Error("database down")), accepted: () => undefined },
      log: pino({ level: "silent" }),
    });
    const http = createServer((req, res) => void ingress.handle(req, res));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const body = JSON.stringify(issuesLabeled("task"));
      const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/hooks`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": randomUUID(), "x-hub-signature-256": sign(body) },
        body,
      });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: "internal", message: "internal error" } });
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
