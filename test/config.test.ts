import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("applies the documented defaults on an empty environment", () => {
    const config = loadConfig({});
    expect(config.server).toEqual({ port: 3000, host: "localhost", publicUrl: "http://localhost:3000" });
    expect(config.database).toMatchObject({ kind: "pglite" });
    expect(config.database.kind === "pglite" && config.database.dataDir).toMatch(/\.data\/pglite$/);
    expect(config.orchestrator).toEqual({ kind: "embedded", concurrency: 4 });
    expect(config.sandbox.kind).toBe("local");
    expect(config.agent.kind).toBe("claude");
    expect(config.triggers).toEqual({ label: "task", command: "/task" });
    expect(config.github.apiUrl).toBe("https://api.github.com");
    expect(config.github.webhookPath).toBe("/api/github/webhooks");
    expect(config.posthog).toBeUndefined();
  });

  it("keeps processed webhook deliveries TASKS_DELIVERY_RETENTION_DAYS days, 7 by default", () => {
    expect(loadConfig({}).inbox).toEqual({ retentionDays: 7 });
    expect(loadConfig({ TASKS_DELIVERY_RETENTION_DAYS: "30" }).inbox).toEqual({ retentionDays: 30 });
  });

  it("points the model gateway at the vendors' public APIs, with a 2 000 000-token run budget, unless told otherwise", () => {
    expect(loadConfig({}).gateway).toEqual({
      anthropic: { baseUrl: "https://api.anthropic.com", apiKey: undefined },
      openai: { baseUrl: "https://api.openai.com/v1", apiKey: undefined },
      runTokenBudget: 2_000_000,
    });
    const custom = loadConfig({ ANTHROPIC_BASE_URL: "http://127.0.0.1:9000/", OPENAI_BASE_URL: "https://llm.example.com/v1", TASKS_RUN_TOKEN_BUDGET: "50000", ANTHROPIC_API_KEY: "sk-ant-x" }).gateway;
    expect(custom).toEqual({ anthropic: { baseUrl: "http://127.0.0.1:9000", apiKey: "sk-ant-x" }, openai: { baseUrl: "https://llm.example.com/v1", apiKey: undefined }, runTokenBudget: 50_000 });
    expect(() => loadConfig({ TASKS_RUN_TOKEN_BUDGET: "lots" })).toThrow("TASKS_RUN_TOKEN_BUDGET: expected a whole number from 1 to 1000000000");
    expect(() => loadConfig({ ANTHROPIC_BASE_URL: "file:///etc/passwd" })).toThrow("ANTHROPIC_BASE_URL: expected an http(s) URL");
  });

  it("allows the sandbox no egress by default, and the hosts TASKS_EGRESS_ALLOW names", () => {
    expect(loadConfig({}).sandbox.egressAllow).toEqual([]);
    expect(loadConfig({ TASKS_EGRESS_ALLOW: " registry.npmjs.org, PyPI.org,,10.0.0.0/8,registry.npmjs.org " }).sandbox.egressAllow).toEqual(["registry.npmjs.org", "pypi.org", "10.0.0.0/8"]);
    expect(() => loadConfig({ TASKS_EGRESS_ALLOW: "pypi.org,https://evil.example/x" })).toThrow('TASKS_EGRESS_ALLOW: expected comma-separated host names, IPv4 addresses or CIDR ranges (got "https://evil.example/x")');
    expect(() => loadConfig({ TASKS_EGRESS_ALLOW: "*" })).toThrow("TASKS_EGRESS_ALLOW");
    expect(() => loadConfig({ TASKS_EGRESS_ALLOW: "10.0.0.0/33" })).toThrow("TASKS_EGRESS_ALLOW");
  });

  it("is frozen all the way down", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it("chooses PostgreSQL, Temporal and E2B when their variables are set", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://u@db:5432/tasks",
      TEMPORAL_ADDRESS: "temporal:7233",
      E2B_API_KEY: "e2b_x",
      POSTHOG_API_KEY: "phc_x",
      TASKS_CONCURRENCY: "8",
    });
    expect(config.database).toEqual({ kind: "postgres", url: "postgresql://u@db:5432/tasks" });
    expect(config.orchestrator).toEqual({ kind: "temporal", address: "temporal:7233", namespace: "default", taskQueue: "tasks" });
    expect(config.sandbox.kind).toBe("e2b");
    expect(config.posthog).toEqual({ apiKey: "phc_x", host: "https://us.i.posthog.com" });
  });

  it("derives every GitHub URL from GHE_HOST and GHE_PROTOCOL", () => {
    const config = loadConfig({ GHE_HOST: "github.example.com", GHE_PROTOCOL: "http" });
    expect(config.github.apiUrl).toBe("http://github.example.com/api/v3");
    expect(config.github.webUrl).toBe("http://github.example.com");
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "" }).server.port).toBe(3000);
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ TASKS_CONCURRENCY: "0" }, "TASKS_CONCURRENCY"],
    [{ TASKS_SANDBOX: "docker" }, "TASKS_SANDBOX"],
    [{ TASKS_SANDBOX: "e2b" }, "E2B_API_KEY"],
    [{ TASKS_AGENT: "gpt" }, "TASKS_AGENT"],
    [{ TASKS_AGENT: "command" }, "TASKS_AGENT_COMMAND"],
    [{ TASKS_COMMAND: "task" }, "TASKS_COMMAND"],
    [{ TASKS_ADMIN_TOKEN: "short" }, "TASKS_ADMIN_TOKEN"],
    [{ TASKS_PUBLIC_URL: "not a url" }, "TASKS_PUBLIC_URL"],
    [{ APP_ID: "abc" }, "APP_ID"],
    [{ APP_ID: "123" }, "PRIVATE_KEY"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ GHE_PROTOCOL: "ftp" }, "GHE_PROTOCOL"],
    [{ TASKS_EGRESS_ALLOW: "registry.npmjs.org;rm -rf /" }, "TASKS_EGRESS_ALLOW"],
  ])("refuses %o with one line naming %s", (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as ConfigError).message.startsWith(`${variable}: `)).toBe(true);
    expect((error as ConfigError).message).not.toContain("\n");
  });
});

describe("loadConfig error messages", () => {
  const messageFor = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected loadConfig to throw");
  };

  it("say what is expected and show the rejected value", () => {
    expect(messageFor({ PORT: "eighty" })).toBe('PORT: expected a whole number from 0 to 65535 (got "eighty")');
    expect(messageFor({ TASKS_DELIVERY_RETENTION_DAYS: "0" })).toBe('TASKS_DELIVERY_RETENTION_DAYS: expected a whole number from 1 to 3650 (got "0")');
    expect(messageFor({ TASKS_DELIVERY_RETENTION_DAYS: "a week" })).toBe('TASKS_DELIVERY_RETENTION_DAYS: expected a whole number from 1 to 3650 (got "a week")');
    expect(messageFor({ TASKS_SANDBOX: "docker" })).toBe('TASKS_SANDBOX: expected one of "e2b"|"local"|"unsafe-host" (got "docker")');
  });

  it("never repeat a secret's value", () => {
    expect(messageFor({ TASKS_ADMIN_TOKEN: "short-secret" })).not.toContain("short-secret");
    expect(messageFor({ DATABASE_URL: "mysql://user:hunter2@db/x" })).not.toContain("hunter2");
  });
});
