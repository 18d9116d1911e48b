// #11 finding 8: the webhook endpoint buffered up to 25 MB per request before it checked the
// signature, so 16 concurrent unsigned bodies took the process from 79 to 416 MB. Memory is
// measured here by counting: the ingress's meter says how many body bytes it read and held at
// once, and each client holds its body back to see whether the server answers without it.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultIngressLimits, newIngressMeter } from "../../src/app/webhook-ingress.ts";
import { githubAppEnv, sign } from "../helpers/github.ts";
import { answerBeforeBody, openWebhookRequest, presentHeaders, type RawWebhookRequest } from "../helpers/raw-webhook-request.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

const MB = 1024 * 1024;

/** A delivery of `bytes`, by default with a well-formed signature (of something else) that only reading it can refute. */
function largeDelivery(url: string, bytes: number, signature: string | null = sign("something else")): RawWebhookRequest {
  return openWebhookRequest(
    url,
    presentHeaders({
      "content-type": "application/json",
      "content-length": String(bytes),
      "x-github-event": "issues",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": signature ?? undefined,
    }),
  );
}

describe("16 concurrent 20 MB deliveries", () => {
  let server: TestServer;
  const meter = newIngressMeter();
  beforeAll(async () => {
    server = await startTestServer("pglite", { env: githubAppEnv, ingress: { meter } });
  });
  afterAll(async () => {
    await server?.close();
  });
  const url = () => `${server.url}/api/github/webhooks`;
  const recorded = () => server.db.prisma.webhookDelivery.count();

  it("refuses unsigned ones from their headers, reading none of the 320 MB", async () => {
    const requests = Array.from({ length: 16 }, () => largeDelivery(url(), 20 * MB, null));
    const answers = await Promise.all(requests.map((req) => answerBeforeBody(req)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(16).fill(401));
    await Promise.all(requests.map((req) => req.closed));
    expect(meter.readBytes).toBe(0);
    expect(await recorded()).toBe(0);
  });

  it("reads at most the large-body budget of well-formed ones at once, and refuses the rest unread with 503", async () => {
    const budget = defaultIngressLimits.largeBodyBudgetBytes;
    const admitted = Math.floor(budget / (20 * MB));
    const requests = Array.from({ length: 16 }, () => largeDelivery(url(), 20 * MB));
    // Nothing is sent yet: the ones refused must be answered from their headers alone.
    await waitFor(async () => requests.filter((req) => req.answered()).length >= 16 - admitted, `${16 - admitted} answers without a body`);
    const refused = requests.filter((req) => req.answered());
    const waiting = requests.filter((req) => !req.answered());
    expect(waiting).toHaveLength(admitted);
    for (const req of refused) {
      const answer = await req.answer;
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toBeDefined();
      expect(req.sent()).toBe(0);
    }
    await Promise.all(waiting.map(async (req) => (await req.send(20 * MB), req.end())));
    expect((await Promise.all(waiting.map((req) => req.answer))).map((answer) => answer.status)).toEqual(Array(admitted).fill(401));

    expect(meter.readBytes).toBe(admitted * 20 * MB);
    expect(meter.peakHeldBytes).toBeLessThanOrEqual(budget);
    expect(meter.heldBytes).toBe(0);
    expect(await recorded()).toBe(0);
  });

  it("gives the budget back once those bodies are read", async () => {
    const req = largeDelivery(url(), 20 * MB);
    await req.send(20 * MB);
    req.end();
    expect((await req.answer).status).toBe(401);
  });
});

describe("a body that stalls or ends before its Content-Length", () => {
  let server: TestServer;
  const meter = newIngressMeter();
  beforeAll(async () => {
    // A budget of one 2 MB body, so a body still held shows as a 503 for the next one.
    server = await startTestServer("pglite", { env: githubAppEnv, ingress: { meter, limits: { largeBodyBudgetBytes: 3 * MB, bodyTimeoutMs: 500 } } });
  });
  afterAll(async () => {
    await server?.close();
  });
  const url = () => `${server.url}/api/github/webhooks`;

  it("is dropped after the body time limit, and its memory and budget are freed", async () => {
    const stalled = largeDelivery(url(), 2 * MB);
    await stalled.send(256 * 1024);
    await waitFor(async () => meter.heldBytes > 0, "the first bytes of the stalled body to be read");
    const meanwhile = largeDelivery(url(), 2 * MB);
    expect((await answerBeforeBody(meanwhile)).status).toBe(503);

    await stalled.closed;
    expect(stalled.answered()).toBe(false);
    expect(meter.heldBytes).toBe(0);
    const next = largeDelivery(url(), 2 * MB);
    await next.send(2 * MB);
    next.end();
    expect((await next.answer).status).toBe(401);
  });

  it("frees what a body that ends early held", async () => {
    const short = largeDelivery(url(), 2 * MB);
    await short.send(MB);
    await waitFor(async () => meter.heldBytes > 0, "the first bytes of the short body to be read");
    short.destroy();
    await waitFor(async () => meter.heldBytes === 0, "the short body's bytes to be freed");
    const next = largeDelivery(url(), 2 * MB);
    await next.send(2 * MB);
    next.end();
    expect((await next.answer).status).toBe(401);
    expect(await server.db.prisma.webhookDelivery.count()).toBe(0);
  });
});
