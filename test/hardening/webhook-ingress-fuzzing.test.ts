// #11 finding 8, and the ingress half of the hardening suite: forged, malformed and oversized
// webhook deliveries through the real server. Each is refused with a 4xx (never a 5xx) and
// leaves nothing behind: no WebhookDelivery row, no task. Whatever the headers alone condemn is
// refused before a byte of the body is sent, and the connection is closed so the body cannot follow.
import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newIngressMeter } from "../../src/app/webhook-ingress.ts";
import { issuesLabeled, installationEvent } from "../fixtures/webhooks.ts";
import { testDatabases } from "../helpers/databases.ts";
import { allowOnlyLocalhost, deliver, githubAppEnv, sign, TestOctokit, webhookSecret } from "../helpers/github.ts";
import { answerBeforeBody, openWebhookRequest, presentHeaders } from "../helpers/raw-webhook-request.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const body = JSON.stringify(issuesLabeled("task"));
const signature = sign(body);
const hex = signature.slice("sha256=".length);
const sha1 = `sha1=${createHmac("sha1", webhookSecret).update(body).digest("hex")}`;
const formBody = `payload=${encodeURIComponent(body)}`;

/** GitHub's headers for `body`, signed; a case overrides some, or leaves them out with undefined. */
function headers(overrides: Record<string, string | string[] | undefined> = {}) {
  return presentHeaders({
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "x-github-event": "issues",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": signature,
    ...overrides,
  });
}

// Each is refused from its headers alone.
const condemnedByHeaders: [name: string, overrides: Record<string, string | string[] | undefined>, status: number, code: string][] = [
  ["signature missing", { "x-hub-signature-256": undefined }, 401, "bad_signature"],
  ["signature empty", { "x-hub-signature-256": "" }, 401, "bad_signature"],
  ["signature of 63 hex digits", { "x-hub-signature-256": signature.slice(0, -1) }, 401, "bad_signature"],
  ["signature of 65 hex digits", { "x-hub-signature-256": `${signature}0` }, 401, "bad_signature"],
  ["signature in uppercase hex", { "x-hub-signature-256": `sha256=${hex.toUpperCase()}` }, 401, "bad_signature"],
  ["signature with an uppercase algorithm", { "x-hub-signature-256": `SHA256=${hex}` }, 401, "bad_signature"],
  ["signature not hex", { "x-hub-signature-256": `sha256=${"g".repeat(64)}` }, 401, "bad_signature"],
  ["the right signature sent twice", { "x-hub-signature-256": [signature, signature] }, 401, "bad_signature"],
  ["a wrong and the right signature", { "x-hub-signature-256": [sign("other"), signature] }, 401, "bad_signature"],
  ["sha1 only (legacy X-Hub-Signature)", { "x-hub-signature-256": undefined, "x-hub-signature": sha1 }, 401, "bad_signature"],
  ["X-GitHub-Event missing", { "x-github-event": undefined }, 400, "bad_headers"],
  ["X-GitHub-Delivery missing", { "x-github-delivery": undefined }, 400, "bad_headers"],
  ["X-GitHub-Delivery sent twice", { "x-github-delivery": [randomUUID(), randomUUID()] }, 400, "bad_headers"],
  ["form-encoded payload=", { "content-type": "application/x-www-form-urlencoded", "content-length": String(formBody.length), "x-hub-signature-256": sign(formBody) }, 415, "unsupported_media_type"],
  ["text/plain", { "content-type": "text/plain" }, 415, "unsupported_media_type"],
  ["no content type", { "content-type": undefined }, 415, "unsupported_media_type"],
  ["chunked, without Content-Length", { "content-length": undefined }, 411, "length_required"],
  ["30 MB declared", { "content-length": String(30 * 1024 * 1024) }, 413, "too_large"],
];

describe.each(testDatabases)("forged and malformed webhook deliveries on %s", (kind) => {
  let server: TestServer;
  const meter = newIngressMeter();
  beforeAll(async () => {
    allowOnlyLocalhost();
    server = await startTestServer(kind, { env: githubAppEnv, Octokit: TestOctokit, ingress: { meter } });
    await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) });
    await server.webhooksIdle();
  });
  afterAll(async () => {
    await server?.close();
  });

  const recorded = async () => ({ deliveries: await server.db.prisma.webhookDelivery.count(), tasks: await server.db.prisma.task.count() });
  const url = () => `${server.url}/api/github/webhooks`;

  it("accepts the unforged delivery the cases below are made from", async () => {
    const req = openWebhookRequest(url(), headers({ "x-github-event": "star" }));
    await req.send(Buffer.byteLength(body), Buffer.from(body));
    req.end();
    expect((await req.answer).status).toBe(202);
  });

  it.each(condemnedByHeaders)("refuses %s before reading the body, and records nothing", async (_name, overrides, status, code) => {
    const before = await recorded();
    const readBefore = meter.readBytes;
    const req = openWebhookRequest(url(), headers(overrides));
    const answer = await answerBeforeBody(req);
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code } });
    expect(answer.headers.connection).toBe("close");
    await req.closed;
    expect(req.sent()).toBe(0);
    expect(meter.readBytes).toBe(readBefore);
    await server.webhooksIdle();
    expect(await recorded()).toEqual(before);
  });

  it.each([
    ["a body tampered after signing", body.replace('"task"', '"tusk"'), signature, 401],
    ["a body signed with another secret", body, sign(body, "not-the-secret"), 401],
    ["malformed JSON, signed", '{"action": ', sign('{"action": '), 400],
    ["a JSON array, signed", "[1,2]", sign("[1,2]"), 400],
  ])("refuses %s with a 4xx and records nothing", async (_name, rawBody, bodySignature, status) => {
    const before = await recorded();
    const res = await deliver(server.url, { event: "issues", payload: null, rawBody, signature: bodySignature });
    expect(res.status).toBe(status);
    await server.webhooksIdle();
    expect(await recorded()).toEqual(before);
  });

  it("reads no more than a too-small Content-Length says, when 30 MB follow it", async () => {
    const before = await recorded();
    const readBefore = meter.readBytes;
    const req = openWebhookRequest(url(), headers({ "content-length": "1000" }));
    // Node's parser takes the bytes past Content-Length for a next request and refuses that
    // (400) before or after the ingress refuses the signature of the first 1000 (401).
    await req.send(30 * 1024 * 1024);
    const answer = await req.answer;
    expect([400, 401]).toContain(answer.status);
    await req.closed;
    expect(meter.readBytes - readBefore).toBeLessThanOrEqual(1000);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await recorded()).toEqual(before);
  });
});
