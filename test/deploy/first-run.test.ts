// The first run as a new user meets it: the server's start-up log says what is missing for a task
// to run and how to set it (tasks/setup-status.ts), and says nothing once everything is set.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/server.ts";
import { openTestDatabase } from "../helpers/databases.ts";
import { appPrivateKey, webhookSecret } from "../helpers/github.ts";
import { localServerEnv } from "../helpers/server.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Starts the real server with `env` and returns the setup warnings it logged at start-up. */
async function startUpWarnings(env: Record<string, string>) {
  const lines: { level: number; setup?: string; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  const dataDir = await mkdtemp(path.join(tmpdir(), "tasks-first-run-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const db = await openTestDatabase("pglite");
  cleanups.push(() => db.close());
  const config = loadConfig({ ...(await localServerEnv(dataDir)), LOG_LEVEL: "info", ...env });
  const server = await startServer(config, pino({ level: "info" }, sink), { database: db });
  cleanups.push(() => server.close());
  return { config, warnings: lines.filter((line) => line.setup !== undefined) };
}

describe("the start-up log on a first run", () => {
  it("names the GitHub App to register at the server's own URL and the model key to set", async () => {
    const { config, warnings } = await startUpWarnings({});
    expect(warnings.map((line) => [line.level, line.setup])).toEqual([[40, "github_app"], [40, "model_key"]]);
    expect(warnings[0]!.msg).toContain(`Open ${config.server.publicUrl} to register the GitHub App`);
    expect(warnings[0]!.msg).toContain("`tasks run --repo-path <directory>`");
    expect(warnings[1]!.msg).toContain("Set ANTHROPIC_API_KEY, or set TASKS_AGENT=command with TASKS_AGENT_COMMAND");
  });

  it("asks only for the GitHub App when the command agent is configured", async () => {
    const { warnings } = await startUpWarnings({ TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true" });
    expect(warnings.map((line) => line.setup)).toEqual(["github_app"]);
  });

  it("says nothing is missing once the app and the model key are set", async () => {
    const { warnings } = await startUpWarnings({ APP_ID: "12345", PRIVATE_KEY: appPrivateKey, WEBHOOK_SECRET: webhookSecret, ANTHROPIC_API_KEY: "sk-ant-test", TASKS_SANDBOX: "unsafe-host", TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true" });
    expect(warnings).toEqual([]);
  });
});
