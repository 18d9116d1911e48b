// First run without credentials: the server offers GitHub's manifest flow and stores the
// registered app's credentials in .env.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import nock from "nock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowOnlyLocalhost } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { mergeEnv } from "../../src/app/setup-flow.ts";

/** The one-time state the setup page put into the form's target. */
async function issuedState(baseUrl: string): Promise<string> {
  const html = await (await fetch(`${baseUrl}/setup`)).text();
  return /settings\/apps\/new\?state=([A-Za-z0-9_-]+)"/.exec(html)![1]!;
}

describe("GitHub App setup flow", () => {
  let server: TestServer;
  let envFile: string;
  beforeAll(async () => {
    allowOnlyLocalhost();
    server = await startTestServer("pglite", { env: { TASKS_PUBLIC_URL: "https://tasks.example.com", GHE_HOST: "ghe.example.com" } });
    envFile = path.join(server.dataDir, ".env");
  });
  afterAll(async () => {
    await server?.close();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("serves a form that registers the app from app.yml on the configured GitHub host", async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/action="https:\/\/ghe\.example\.com\/settings\/apps\/new\?state=[A-Za-z0-9_-]{43}"/);
    const manifest = JSON.parse(/name="manifest" value="([^"]*)"/.exec(html)![1]!.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))));
    expect(manifest).toMatchObject({
      redirect_url: "https://tasks.example.com/setup/callback",
      hook_attributes: { url: "https://tasks.example.com/api/github/webhooks" },
      default_permissions: { issues: "write", pull_requests: "write", checks: "write", contents: "write", metadata: "read" },
    });
    expect(manifest.default_permissions).not.toHaveProperty("workflows");
    expect(manifest.default_events.sort()).toEqual(["check_run", "installation", "installation_repositories", "issue_comment", "issues", "pull_request"]);
  });

  it("converts the code and writes the credentials to .env with mode 0600", async () => {
    const github = nock("https://ghe.example.com/api/v3")
      .post("/app-manifests/abc123/conversions")
      .reply(201, { id: 991, pem: "-----BEGIN RSA PRIVATE KEY-----\nxyz\n-----END RSA PRIVATE KEY-----\n", webhook_secret: "whsec", html_url: "https://ghe.example.com/apps/tasks" });
    const restarted = await startTestServer("pglite", { env: { GHE_HOST: "ghe.example.com" }, envFile });
    try {
      const state = await issuedState(restarted.url);
      const res = await fetch(`${restarted.url}/setup/callback?code=abc123&state=${state}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("https://ghe.example.com/apps/tasks/installations/new");
      const env = await readFile(envFile, "utf8");
      expect(env).toContain('APP_ID="991"');
      expect(env).toContain('WEBHOOK_SECRET="whsec"');
      expect(env).toContain('PRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\nxyz');
      expect((await stat(envFile)).mode & 0o777).toBe(0o600);
      expect(github.pendingMocks()).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it("refuses a callback without a valid code", async () => {
    expect((await fetch(`${server.url}/setup/callback?code=../../etc&state=${await issuedState(server.url)}`)).status).toBe(400);
    expect((await fetch(`${server.url}/setup/callback?state=${await issuedState(server.url)}`)).status).toBe(400);
  });

  it("keeps other lines of .env when merging", () => {
    expect(mergeEnv("PORT=4000\nAPP_ID=1\n", { APP_ID: "2" })).toBe('PORT=4000\nAPP_ID="2"\n');
  });
});
