// docker-compose.yml is never started on these machines (no Docker engine), so its structure is
// checked here: the services and their order of start, pinned images, and that what the web
// process and the workers receive is configuration src/config.ts accepts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { AgentConfigurationError, createAgentRuntime } from "../../src/agent/create-agent-runtime.ts";
import { configVariables, loadConfig } from "../../src/config.ts";

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
  volumes?: string[];
  network_mode?: string;
  security_opt?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(new URL("../../docker-compose.yml", import.meta.url), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file?: string }>;
};
const { web, worker, postgres, temporal } = compose.services as Record<"web" | "worker" | "postgres" | "temporal", Service>;
const env = (service: Service): Record<string, string> => Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]));

/** Compose's interpolation: `$$`, `${VAR}`, `${VAR:-default}`, `${VAR:?message}` (throws when unset). */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (!name) return "$";
    const set = vars[name] !== undefined && vars[name] !== "";
    if (op === "?" && !set) throw new Error(`${name}: ${arg}`);
    return set ? vars[name]! : op === "-" ? arg! : "";
  });
}
const resolve = (service: Service, vars: Record<string, string>) => Object.fromEntries(Object.entries(env(service)).map(([name, value]) => [name, interpolate(value, vars)]));

// What an operator's .env holds (placeholders, no real secret).
const operatorEnv = {
  POSTGRES_PASSWORD: "pg-password",
  APP_ID: "123456",
  WEBHOOK_SECRET: "webhook-secret",
  TASKS_PUBLIC_URL: "https://tasks.example.com",
  ANTHROPIC_API_KEY: "sk-ant-placeholder",
  E2B_API_KEY: "e2b-placeholder",
};
const modelKeys = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"];

describe("docker-compose.yml", () => {
  it("has PostgreSQL, Temporal, the web process and the workers", () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(["postgres", "temporal", "temporal-schema", "temporal-namespace", "temporal-ui", "web", "worker"]));
    expect(postgres.image).toMatch(/^postgres:/);
    expect(temporal.image).toMatch(/^temporalio\/server:/);
    expect(postgres.volumes).toContain("postgres-data:/var/lib/postgresql/data");
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(["postgres-data", "tasks-data"]));
  });

  it("pins every image to a version tag", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
      expect(service.image!.split(":")[1], name).not.toBe("latest");
    }
  });

  it("builds the web process and the workers from the repository's Dockerfile, the worker with the worker entry point", () => {
    expect(web.build).toBe(".");
    expect(worker.build).toBe(".");
    expect(web.command).toBeUndefined();
    expect(web.ports).toEqual(["3000:3000"]);
    expect(worker.command).toEqual(["node", "--import", "tsx", "src/temporal/worker.ts"]);
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it("gives web and workers only variables src/config.ts knows", () => {
    const known = new Set(configVariables);
    expect(known.has("DATABASE_URL")).toBe(true);
    for (const service of [web, worker]) {
      const unknown = Object.keys(env(service)).filter((name) => !known.has(name));
      expect(unknown).toEqual([]);
    }
  });

  it("gives web and workers the same database, Temporal cluster, GitHub App, public URL and port", () => {
    const shared = ["DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "APP_ID", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "TASKS_PUBLIC_URL", "PORT", "TASKS_SANDBOX"];
    for (const name of shared) {
      expect(env(web)[name], name).toBeDefined();
      expect(env(worker)[name], name).toBe(env(web)[name]);
    }
    expect(env(web).DATABASE_URL).toMatch(/^postgresql:\/\/[^@]+@postgres:5432\/tasks$/);
    expect(env(web).TEMPORAL_ADDRESS).toBe("temporal:7233");
  });

  it("keeps the gateway's upstreams on the web process and the sandbox settings on the workers", () => {
    for (const name of ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "TASKS_ADMIN_TOKEN"]) {
      expect(env(web)[name], name).toBeDefined();
      expect(env(worker)[name], name).toBeUndefined();
    }
    for (const name of ["TASKS_AGENT", "TASKS_AGENT_COMMAND", "E2B_API_KEY", "E2B_TEMPLATE", "TASKS_EGRESS_ALLOW"]) {
      expect(env(worker)[name], name).toBeDefined();
      expect(env(web)[name], name).toBeUndefined();
    }
  });

  it("gives the workers the model keys only because their agent runtime refuses a stage without one", () => {
    // Drop the keys from the worker once this stops throwing: only the web's gateway uses them.
    expect(() => createAgentRuntime({ kind: "claude", command: undefined, anthropicApiKey: undefined, openaiApiKey: undefined })).toThrow(AgentConfigurationError);
    for (const name of modelKeys) expect(env(worker)[name], name).toBe(env(web)[name]);
  });

  it("takes every secret from the operator's environment, never a literal", () => {
    const secret = /(SECRET|PASSWORD|PWD|_KEY|TOKEN)$/;
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(env(service))) {
        if (secret.test(variable)) expect(value, `${name}.${variable}`).toMatch(/^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$/);
      }
    }
    expect(env(web).DATABASE_URL).toContain(":${POSTGRES_PASSWORD:?");
    expect(env(web).PRIVATE_KEY_PATH).toBe("/run/secrets/github-app-private-key");
    for (const name of ["APP_ID", "WEBHOOK_SECRET", "TASKS_PUBLIC_URL"]) {
      expect(() => resolve(web, { ...operatorEnv, [name]: "" }), name).toThrow(name);
    }
    expect(compose.secrets["github-app-private-key"]?.file).toMatch(/^\$\{GITHUB_APP_PRIVATE_KEY_FILE:\?/);
    // `COPY . .` in the Dockerfile would otherwise bake the operator's .env and key into the image.
    const ignored = readFileSync(new URL("../../.dockerignore", import.meta.url), "utf8").split("\n");
    expect(ignored).toEqual(expect.arrayContaining([".env", "*.pem"]));
  });

  it("resolves, with an operator's values, to configurations src/config.ts accepts: PostgreSQL and Temporal in both", () => {
    for (const service of [web, worker]) {
      const config = loadConfig(resolve(service, operatorEnv));
      expect(config.database).toEqual({ kind: "postgres", url: "postgresql://tasks:pg-password@postgres:5432/tasks" });
      expect(config.orchestrator).toEqual({ kind: "temporal", address: "temporal:7233", namespace: "default", taskQueue: "tasks" });
      expect(config.server.publicUrl).toBe("https://tasks.example.com");
      expect(config.github.appId).toBe("123456");
    }
    expect(loadConfig(resolve(worker, operatorEnv)).sandbox.kind).toBe("e2b");
  });

  it("starts the web process once PostgreSQL and Temporal are healthy, and the workers after it", () => {
    expect(web.depends_on?.postgres).toEqual({ condition: "service_healthy" });
    expect(web.depends_on?.temporal).toEqual({ condition: "service_healthy" });
    expect(web.depends_on?.["temporal-namespace"]).toEqual({ condition: "service_completed_successfully" });
    expect(worker.depends_on?.web).toEqual({ condition: "service_healthy" });
    for (const service of [postgres, temporal, web]) expect(service.healthcheck?.test.length).toBeGreaterThan(0);
    expect(web.healthcheck?.test.join(" ")).toContain("http://127.0.0.1:3000/readyz");
  });

  it("lets local sandboxes in the workers reach the web's model gateway (TASKS_PUBLIC_URL) and share the run's files", () => {
    // modelGatewayUrl (src/compose.ts): a worker's local sandbox reaches the gateway at TASKS_PUBLIC_URL.
    expect(worker.network_mode).toBeUndefined();
    expect(worker.volumes).toContain("tasks-data:/data");
    expect(worker.security_opt).toEqual(expect.arrayContaining(["seccomp=unconfined", "apparmor=unconfined"]));
    expect(web.security_opt).toBeUndefined();
  });
});
