// #11 finding 7: before an App is configured, /setup/callback must not let whoever reaches the
// server install their own App. It takes only a one-time `state` the setup page issued, and
// nothing at all once an App is configured.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import nock from "nock";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSetupFlow } from "../../src/app/setup-flow.ts";
import { allowOnlyLocalhost } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const ghe = { GHE_HOST: "ghe.example.com", TASKS_PUBLIC_URL: "https://tasks.example.com" };
const conversion = (id: number) => ({ id, pem: "-----BEGIN RSA PRIVATE KEY-----\nxyz\n-----END RSA PRIVATE KEY-----\n", webhook_secret: `whsec-${id}`, html_url: "https://ghe.example.com/apps/tasks" });

/** GitHub's conversion endpoint for `code`, answering with an App whose id is `id`. */
const githubConverts = (code: string, id: number) =>
  nock("https://ghe.example.com/api/v3").post(`/app-manifests/${code}/conversions`).reply(201, conversion(id));

/** The state the setup page put into the form's target, as GitHub would hand it back. */
async function issuedState(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/setup`);
  expect(res.status).toBe(200);
  const action = /<form action="([^"]*)"/.exec(await res.text())?.[1]?.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
  expect(action).toMatch(/^https:\/\/ghe\.example\.com\/settings\/apps\/new\?state=/);
  return new URL(action!).searchParams.get("state")!;
}

const callback = (baseUrl: string, params: Record<string, string>) => fetch(`${baseUrl}/setup/callback?${new URLSearchParams(params)}`);

async function envText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

describe("the setup callback through the real server", () => {
  let dir: string;
  let envFile: string;
  let server: TestServer;
  beforeAll(async () => {
    allowOnlyLocalhost();
    dir = await mkdtemp(path.join(tmpdir(), "tasks-setup-callback-"));
    envFile = path.join(dir, ".env");
    server = await startTestServer("pglite", { env: ghe, envFile });
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    nock.enableNetConnect();
  });

  it("refuses a callback without a state and never asks GitHub", async () => {
    const github = githubConverts("attacker-code", 666);
    const res = await callback(server.url, { code: "attacker-code" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("state");
    expect(github.isDone()).toBe(false);
    expect(await envText(envFile)).toBeUndefined();
  });

  it("refuses a forged state and never asks GitHub", async () => {
    await issuedState(server.url);
    const github = githubConverts("attacker-code", 666);
    const res = await callback(server.url, { code: "attacker-code", state: "forged-state-value-0123456789abcdef0123456" });
    expect(res.status).toBe(403);
    expect(github.isDone()).toBe(false);
    expect(await envText(envFile)).toBeUndefined();
  });

  it("accepts an issued state once: a replay is refused even when the first exchange failed", async () => {
    const state = await issuedState(server.url);
    const failing = nock("https://ghe.example.com/api/v3").post("/app-manifests/stale-code/conversions").reply(404, { message: "Not Found" });
    expect((await callback(server.url, { code: "stale-code", state })).status).toBe(502);
    expect(failing.isDone()).toBe(true);

    const github = githubConverts("attacker-code", 666);
    const replay = await callback(server.url, { code: "attacker-code", state });
    expect(replay.status).toBe(403);
    expect(github.isDone()).toBe(false);
    expect(await envText(envFile)).toBeUndefined();
  });

  it("registers the App with a fresh state, then refuses every further callback with 409", async () => {
    const state = await issuedState(server.url);
    const spare = await issuedState(server.url);
    const github = githubConverts("good-code", 991);
    const res = await callback(server.url, { code: "good-code", state });
    expect(res.status).toBe(200);
    expect(github.isDone()).toBe(true);
    const written = await envText(envFile);
    expect(written).toContain('APP_ID="991"');

    // An outstanding state is no way back in once an App is configured.
    const attacker = githubConverts("attacker-code", 666);
    const again = await callback(server.url, { code: "attacker-code", state: spare });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("already configured");
    expect(attacker.isDone()).toBe(false);
    expect(await envText(envFile)).toBe(written);
    // Nor does the page hand out new states.
    expect((await fetch(`${server.url}/setup`)).status).toBe(409);
  });
});

describe("a server whose .env already holds an App", () => {
  let dir: string;
  let envFile: string;
  let server: TestServer;
  const existing = 'PORT=4000\nAPP_ID="123"\nWEBHOOK_SECRET="old"\n';
  beforeAll(async () => {
    allowOnlyLocalhost();
    dir = await mkdtemp(path.join(tmpdir(), "tasks-setup-callback-"));
    envFile = path.join(dir, ".env");
    await writeFile(envFile, existing, { mode: 0o600 });
    // The server's own config has no APP_ID (the .env was written after it read its environment).
    server = await startTestServer("pglite", { env: ghe, envFile });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("refuses the callback with 409 and leaves .env alone", async () => {
    const github = githubConverts("attacker-code", 666);
    const res = await callback(server.url, { code: "attacker-code", state: "whatever-state-0123456789abcdef0123456789ab" });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("already configured");
    expect(github.isDone()).toBe(false);
    expect(await envText(envFile)).toBe(existing);
  });
});

describe("state expiry", () => {
  let http: Server;
  let baseUrl: string;
  let clock = 0;
  const exchanged: string[] = [];
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tasks-setup-callback-"));
    const handler = createSetupFlow({
      publicUrl: "https://tasks.example.com",
      webUrl: "https://ghe.example.com",
      apiUrl: "https://ghe.example.com/api/v3",
      webhookPath: "/api/github/webhooks",
      webhookProxyUrl: undefined,
      manifestPath: fileURLToPath(new URL("../../app.yml", import.meta.url)),
      envFile: path.join(dir, ".env"),
      log: pino({ level: "silent" }),
      now: () => clock,
      stateTtlMs: 60 * 60 * 1000,
      fetch: async (input) => {
        exchanged.push(String(input));
        return Response.json(conversion(7), { status: 201 });
      },
    });
    http = createServer((req, res) => {
      void handler(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a state past its lifetime without asking GitHub", async () => {
    const state = await issuedState(baseUrl);
    clock += 60 * 60 * 1000;
    const res = await callback(baseUrl, { code: "late-code", state });
    expect(res.status).toBe(403);
    expect(exchanged).toEqual([]);
  });

  it("accepts a state within its lifetime", async () => {
    const state = await issuedState(baseUrl);
    clock += 60 * 60 * 1000 - 1;
    expect((await callback(baseUrl, { code: "in-time", state })).status).toBe(200);
    expect(exchanged).toEqual(["https://ghe.example.com/api/v3/app-manifests/in-time/conversions"]);
  });
});
