import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createSandboxProvider, e2bAllowOut } from "../../src/sandbox/create-sandbox-provider.ts";

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "tasks-provider-"));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("createSandboxProvider", () => {
  it("makes local sandboxes under <TASKS_DATA_DIR>/workspaces when no E2B key is set", async () => {
    const provider = createSandboxProvider(loadConfig({ TASKS_DATA_DIR: dataDir, PATH: process.env["PATH"], TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true" }));
    expect(provider.kind).toBe("local");
    const sandbox = await provider.create({ taskId: "t", runId: "r", timeoutMs: 60_000 });
    expect(path.dirname(path.dirname(sandbox.workdir))).toBe(path.join(dataDir, "workspaces"));
    await sandbox.kill();
    expect(existsSync(path.dirname(sandbox.workdir))).toBe(false);
  });

  it("uses E2B when a key is set, without contacting it until a sandbox is needed", () => {
    const provider = createSandboxProvider(loadConfig({ TASKS_DATA_DIR: dataDir, E2B_API_KEY: "e2b_test" }));
    expect(provider.kind).toBe("e2b");
  });

  it("lets E2B sandboxes reach only the model gateway (TASKS_PUBLIC_URL's host) and TASKS_EGRESS_ALLOW", () => {
    const config = (env: Record<string, string>) => loadConfig({ TASKS_DATA_DIR: dataDir, E2B_API_KEY: "e2b_test", ...env });
    expect(e2bAllowOut(config({ TASKS_PUBLIC_URL: "https://tasks.example.com/" }))).toEqual(["tasks.example.com"]);
    expect(e2bAllowOut(config({ TASKS_PUBLIC_URL: "https://tasks.example.com:8443", TASKS_EGRESS_ALLOW: "registry.npmjs.org,tasks.example.com" }))).toEqual(["tasks.example.com", "registry.npmjs.org"]);
  });

  it("loads the E2B adapter (and with it the SDK) only through a dynamic import", async () => {
    const source = await readFile(new URL("../../src/sandbox/create-sandbox-provider.ts", import.meta.url), "utf8");
    const staticImports = [...source.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms)].map((match) => match[1]);
    expect(staticImports).not.toContain("./e2b-sandbox.ts");
    expect(staticImports).not.toContain("e2b");
    expect(source).toContain('import("./e2b-sandbox.ts")');
  });
});

describe("architecture", () => {
  it("lets only src/sandbox/e2b-sandbox.ts import the e2b SDK", async () => {
    const srcDir = new URL("../../src/", import.meta.url).pathname;
    const importers: string[] = [];
    for (const entry of await readdir(srcDir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const file = path.join(entry.parentPath, entry.name);
      if (file.includes(`${path.sep}generated${path.sep}`)) continue;
      const source = await readFile(file, "utf8");
      if (/from\s+["']e2b(\/[^"']*)?["']|import\(\s*["']e2b(\/[^"']*)?["']\s*\)|require\(\s*["']e2b/.test(source)) importers.push(path.relative(srcDir, file));
    }
    expect(importers).toEqual([path.join("sandbox", "e2b-sandbox.ts")]);
  });
});
