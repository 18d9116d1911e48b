// The only reader of the environment (ARCHITECTURE.md, "Configuration").
// loadConfig(env) parses every variable once with zod and returns a frozen value that the
// rest of the app receives as an argument; a bad value throws ConfigError naming the variable.
import path from "node:path";
import { z } from "zod";

const emptyToUndefined = (value: unknown) => (value === "" ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const wholeNumber = (min: number, max: number, fallback: number) => {
  const message = `a whole number from ${min} to ${max}`;
  return z.preprocess(emptyToUndefined, z.coerce.number({ error: message }).int(message).min(min, message).max(max, message).default(fallback));
};
const port = wholeNumber(0, 65_535, 3000);

const envSchema = z.object({
  APP_ID: z.preprocess(emptyToUndefined, z.string().regex(/^\d+$/, "a numeric GitHub App id").optional()),
  PRIVATE_KEY: optionalString,
  PRIVATE_KEY_PATH: optionalString,
  WEBHOOK_SECRET: optionalString,
  WEBHOOK_PATH: z.preprocess(emptyToUndefined, z.string().startsWith("/", "a path starting with /").default("/api/github/webhooks")),
  WEBHOOK_PROXY_URL: z.preprocess(emptyToUndefined, z.url().optional()),
  GHE_HOST: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, "a host name such as github.example.com").optional()),
  GHE_PROTOCOL: z.preprocess(emptyToUndefined, z.enum(["https", "http"]).default("https")),
  PORT: port,
  HOST: z.preprocess(emptyToUndefined, z.string().default("localhost")),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info")),
  // Unset: readable on a developer's terminal, JSON everywhere else (see logFormat below).
  LOG_FORMAT: z.preprocess(emptyToUndefined, z.enum(["json", "pretty"]).optional()),
  NODE_ENV: optionalString,

  DATABASE_URL: z.preprocess(emptyToUndefined, z.string().regex(/^postgres(ql)?:\/\//, "a postgresql:// connection string").optional()),
  TASKS_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default("./.data")),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.preprocess(emptyToUndefined, z.string().default("default")),
  TEMPORAL_TASK_QUEUE: z.preprocess(emptyToUndefined, z.string().default("tasks")),
  TASKS_CONCURRENCY: wholeNumber(1, 256, 4),
  TASKS_DELIVERY_RETENTION_DAYS: wholeNumber(1, 3650, 7),
  // How long SIGTERM lets running steps finish before parking them (they resume on the next start).
  TASKS_SHUTDOWN_GRACE_SECONDS: wholeNumber(0, 3600, 25),
  TASKS_SANDBOX: z.preprocess(emptyToUndefined, z.enum(["e2b", "local", "unsafe-host"]).optional()),
  E2B_API_KEY: optionalString,
  E2B_TEMPLATE: optionalString,
  TASKS_EGRESS_ALLOW: optionalString,
  TASKS_AGENT: z.preprocess(emptyToUndefined, z.enum(["claude", "codex", "command"]).default("claude")),
  TASKS_AGENT_COMMAND: optionalString,
  ANTHROPIC_API_KEY: optionalString,
  OPENAI_API_KEY: optionalString,
  // The model gateway's upstreams: the paths the CLIs append (`/v1/messages`, `/responses`) follow them.
  ANTHROPIC_BASE_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/, error: "an http(s) URL such as https://api.anthropic.com" }).default("https://api.anthropic.com")),
  OPENAI_BASE_URL: z.preprocess(emptyToUndefined, z.url({ protocol: /^https?$/, error: "an http(s) URL such as https://api.openai.com/v1" }).default("https://api.openai.com/v1")),
  TASKS_RUN_TOKEN_BUDGET: wholeNumber(1, 1_000_000_000, 2_000_000),
  TASKS_LABEL: z.preprocess(emptyToUndefined, z.string().max(50).default("task")),
  TASKS_COMMAND: z.preprocess(emptyToUndefined, z.string().regex(/^\/[a-z][a-z0-9-]*$/, "a command such as /task").default("/task")),
  TASKS_ADMIN_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, "at least 16 characters").optional()),
  TASKS_PUBLIC_URL: z.preprocess(emptyToUndefined, z.url().optional()),
  POSTHOG_API_KEY: optionalString,
  POSTHOG_HOST: z.preprocess(emptyToUndefined, z.url().default("https://us.i.posthog.com")),
  // Where the control plane's own git finds its programs and home; nothing else of the
  // environment is handed to child processes.
  PATH: z.preprocess(emptyToUndefined, z.string().default("/usr/local/bin:/usr/bin:/bin")),
  HOME: z.preprocess(emptyToUndefined, z.string().default("/tmp")),
});

// Every variable name the app reads: deployment files are checked against it (test/deploy).
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

type Env = z.infer<typeof envSchema>;

// Values never repeated in an error message: they end up in logs and terminals.
const secretVariables = new Set(["PRIVATE_KEY", "WEBHOOK_SECRET", "DATABASE_URL", "E2B_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "TASKS_ADMIN_TOKEN", "POSTHOG_API_KEY", "TASKS_AGENT_COMMAND"]);

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export interface Config {
  readonly github: {
    readonly appId: string | undefined;
    readonly privateKey: string | undefined;
    readonly privateKeyPath: string | undefined;
    readonly webhookSecret: string | undefined;
    readonly webhookPath: string;
    readonly webhookProxyUrl: string | undefined;
    /** REST API base URL: api.github.com, or `<protocol>://<GHE_HOST>/api/v3` on GHES. */
    readonly apiUrl: string;
    /** Web and git base URL: github.com, or `<protocol>://<GHE_HOST>` on GHES. */
    readonly webUrl: string;
  };
  readonly server: { readonly port: number; readonly host: string; readonly publicUrl: string };
  readonly log: { readonly level: Env["LOG_LEVEL"]; readonly format: "json" | "pretty" };
  readonly database: { readonly kind: "postgres"; readonly url: string } | { readonly kind: "pglite"; readonly dataDir: string };
  readonly dataDir: string;
  readonly orchestrator:
    | { readonly kind: "embedded"; readonly concurrency: number }
    | { readonly kind: "temporal"; readonly address: string; readonly namespace: string; readonly taskQueue: string };
  readonly sandbox: { readonly kind: "e2b" | "local" | "unsafe-host"; readonly e2bApiKey: string | undefined; readonly e2bTemplate: string | undefined; readonly egressAllow: readonly string[] };
  readonly agent: {
    readonly kind: Env["TASKS_AGENT"];
    readonly command: string | undefined;
    readonly anthropicApiKey: string | undefined;
    readonly openaiApiKey: string | undefined;
  };
  /** The model gateway: the vendors it forwards to with the operator's keys, and the per-run budget. */
  readonly gateway: {
    readonly anthropic: { readonly baseUrl: string; readonly apiKey: string | undefined };
    readonly openai: { readonly baseUrl: string; readonly apiKey: string | undefined };
    /** Input plus output tokens one run may use (TASKS_RUN_TOKEN_BUDGET). */
    readonly runTokenBudget: number;
  };
  readonly triggers: { readonly label: string; readonly command: string };
  /** Processed webhook deliveries are kept this many days, then pruned from the inbox. */
  readonly inbox: { readonly retentionDays: number };
  /** On SIGTERM: how long running steps may take to reach their end before they are parked. */
  readonly shutdown: { readonly graceMs: number };
  readonly adminToken: string | undefined;
  readonly posthog: { readonly apiKey: string; readonly host: string } | undefined;
  readonly system: { readonly path: string; readonly home: string };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

// A host name, an IPv4 address, or an IPv4 CIDR range: what E2B's egress allow-list takes.
const hostName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const ipv4Range = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\/(?:3[0-2]|[12]?\d))?$/;

/** TASKS_EGRESS_ALLOW: comma-separated hosts the sandbox may reach for setup commands; none by default. */
function parseEgressAllow(value: string | undefined): string[] {
  const entries = (value ?? "").split(",").map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== "");
  for (const entry of entries) {
    if (!hostName.test(entry) && !ipv4Range.test(entry)) {
      throw new ConfigError("TASKS_EGRESS_ALLOW", `expected comma-separated host names, IPv4 addresses or CIDR ranges (got ${JSON.stringify(entry)})`);
    }
  }
  return [...new Set(entries)];
}

/** What the process's output is attached to: the log format's default depends on it. */
export interface Terminal {
  readonly stdoutIsTTY: boolean;
}

/**
 * LOG_FORMAT when set; otherwise pretty when a person is watching (stdout is a terminal) outside
 * production, and JSON for log collectors (a pipe, a file, a container runtime, NODE_ENV=production).
 */
export function logFormat(format: "json" | "pretty" | undefined, nodeEnv: string | undefined, terminal: Terminal): "json" | "pretty" {
  if (format) return format;
  return terminal.stdoutIsTTY && nodeEnv !== "production" ? "pretty" : "json";
}

export function loadConfig(env: Record<string, string | undefined>, terminal: Terminal = { stdoutIsTTY: process.stdout.isTTY === true }): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    const shown = env[variable] === undefined || secretVariables.has(variable) ? "" : ` (got ${JSON.stringify(env[variable])})`;
    const expected = issue.message.replace(/^(Invalid input|Invalid option|Too big|Too small): /, "");
    throw new ConfigError(variable, `${expected.startsWith("expected") ? expected : `expected ${expected}`}${shown}`);
  }
  const e = parsed.data;

  if (e.TASKS_SANDBOX === "e2b" && !e.E2B_API_KEY) {
    throw new ConfigError("E2B_API_KEY", "required when TASKS_SANDBOX=e2b");
  }
  const egressAllow = parseEgressAllow(e.TASKS_EGRESS_ALLOW);
  if (e.TASKS_AGENT === "command" && !e.TASKS_AGENT_COMMAND) {
    throw new ConfigError("TASKS_AGENT_COMMAND", "required when TASKS_AGENT=command");
  }
  if (e.APP_ID && !e.PRIVATE_KEY && !e.PRIVATE_KEY_PATH) {
    throw new ConfigError("PRIVATE_KEY", "PRIVATE_KEY or PRIVATE_KEY_PATH is required when APP_ID is set");
  }
  if (e.APP_ID && !e.WEBHOOK_SECRET) {
    throw new ConfigError("WEBHOOK_SECRET", "required when APP_ID is set (the secret GitHub signs deliveries with)");
  }

  const webUrl = e.GHE_HOST ? `${e.GHE_PROTOCOL}://${e.GHE_HOST}` : "https://github.com";
  const apiUrl = e.GHE_HOST ? `${webUrl}/api/v3` : "https://api.github.com";
  const dataDir = path.resolve(e.TASKS_DATA_DIR);

  return deepFreeze<Config>({
    github: {
      appId: e.APP_ID,
      privateKey: e.PRIVATE_KEY,
      privateKeyPath: e.PRIVATE_KEY_PATH,
      webhookSecret: e.WEBHOOK_SECRET,
      webhookPath: e.WEBHOOK_PATH,
      webhookProxyUrl: e.WEBHOOK_PROXY_URL,
      apiUrl,
      webUrl,
    },
    server: {
      port: e.PORT,
      host: e.HOST,
      publicUrl: (e.TASKS_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    },
    log: { level: e.LOG_LEVEL, format: logFormat(e.LOG_FORMAT, e.NODE_ENV, terminal) },
    database: e.DATABASE_URL
      ? { kind: "postgres", url: e.DATABASE_URL }
      : { kind: "pglite", dataDir: path.join(dataDir, "pglite") },
    dataDir,
    orchestrator: e.TEMPORAL_ADDRESS
      ? { kind: "temporal", address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE }
      : { kind: "embedded", concurrency: e.TASKS_CONCURRENCY },
    sandbox: {
      kind: e.TASKS_SANDBOX ?? (e.E2B_API_KEY ? "e2b" : "local"),
      e2bApiKey: e.E2B_API_KEY,
      e2bTemplate: e.E2B_TEMPLATE,
      egressAllow,
    },
    agent: {
      kind: e.TASKS_AGENT,
      command: e.TASKS_AGENT_COMMAND,
      anthropicApiKey: e.ANTHROPIC_API_KEY,
      openaiApiKey: e.OPENAI_API_KEY,
    },
    gateway: {
      anthropic: { baseUrl: e.ANTHROPIC_BASE_URL.replace(/\/+$/, ""), apiKey: e.ANTHROPIC_API_KEY },
      openai: { baseUrl: e.OPENAI_BASE_URL.replace(/\/+$/, ""), apiKey: e.OPENAI_API_KEY },
      runTokenBudget: e.TASKS_RUN_TOKEN_BUDGET,
    },
    triggers: { label: e.TASKS_LABEL, command: e.TASKS_COMMAND },
    inbox: { retentionDays: e.TASKS_DELIVERY_RETENTION_DAYS },
    shutdown: { graceMs: e.TASKS_SHUTDOWN_GRACE_SECONDS * 1000 },
    adminToken: e.TASKS_ADMIN_TOKEN,
    posthog: e.POSTHOG_API_KEY ? { apiKey: e.POSTHOG_API_KEY, host: e.POSTHOG_HOST } : undefined,
    system: { path: e.PATH, home: e.HOME },
  });
}
