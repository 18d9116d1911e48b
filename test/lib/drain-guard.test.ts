// The drain guard in front of a real HTTP server: while draining, writes are answered 503 with
// Retry-After and never reach the handlers behind it; reads and the model gateway still do.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDrainGuard } from "../../src/lib/drain-guard.ts";

describe("drain guard", () => {
  let draining = false;
  const reached: string[] = [];
  let base = "";
  const guard = createDrainGuard({ isDraining: () => draining, openPrefixes: ["/model/"], retryAfterSeconds: 30 });
  const server = http.createServer((req, res) => {
    void guard(req, res).then((handled) => {
      if (handled) return;
      reached.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" }).end("behind");
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const send = (method: string, path: string) => fetch(`${base}${path}`, { method, ...(method === "GET" || method === "HEAD" ? {} : { body: "{}", headers: { "content-type": "application/json" } }) });

  it("lets everything through while the process serves", async () => {
    draining = false;
    reached.length = 0;
    expect((await send("POST", "/api/tasks")).status).toBe(200);
    expect(reached).toEqual(["POST /api/tasks"]);
  });

  it("refuses every write while draining, with a JSON error and Retry-After", async () => {
    draining = true;
    reached.length = 0;
    for (const [method, path] of [["POST", "/api/tasks"], ["POST", "/api/github/webhooks"], ["PATCH", "/api/tasks/1?x=1"], ["DELETE", "/api/admin/teams/1"], ["PUT", "/tasks/POS-1/approve"]] as const) {
      const response = await send(method, path);
      expect(response.status, `${method} ${path}`).toBe(503);
      expect(response.headers.get("retry-after")).toBe("30");
      expect(await response.json()).toEqual({ error: { code: "draining", message: "Tasks is shutting down and accepts no writes; retry in 30 seconds" } });
    }
    expect(reached).toEqual([]);
  });

  it("keeps reads and the model gateway open while draining", async () => {
    draining = true;
    reached.length = 0;
    expect((await send("GET", "/api/tasks/1")).status).toBe(200);
    expect((await send("HEAD", "/healthz")).status).toBe(200);
    expect((await send("POST", "/model/anthropic/v1/messages")).status).toBe(200);
    // A look-alike path is not the gateway.
    expect((await send("POST", "/models/anthropic")).status).toBe(503);
    expect(reached).toEqual(["GET /api/tasks/1", "HEAD /healthz", "POST /model/anthropic/v1/messages"]);
  });
});
