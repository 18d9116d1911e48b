// The count of sandboxes a process holds (/metrics' tasks_sandboxes_active), over real local sandboxes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { countSandboxes } from "../../src/sandbox/counted-sandboxes.ts";
import { createSandboxProvider } from "../../src/sandbox/create-sandbox-provider.ts";
import { SandboxGoneError } from "../../src/sandbox/sandbox.ts";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "tasks-counted-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("countSandboxes", () => {
  it("counts sandboxes created and reconnected until they are killed, each once, never below zero", async () => {
    const provider = countSandboxes(createSandboxProvider(loadConfig({ TASKS_DATA_DIR: dataDir, PATH: process.env["PATH"], TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true" })));
    expect(provider.kind).toBe("local");
    const spec = { taskId: "t", runId: "r", timeoutMs: 60_000 };
    const first = await provider.create(spec);
    const second = await provider.create({ ...spec, runId: "r2" });
    expect(provider.active()).toBe(2);

    // The wrapper is the sandbox: commands run in it as before.
    const listed = await first.exec(["sh", "-c", "pwd"], { cwd: first.workdir, timeoutMs: 10_000 });
    expect(listed.stdout.trim()).toBe(first.workdir);

    // Reconnecting to one already held (a step after a restart) does not count it twice.
    const again = await provider.connect(first.id, spec);
    expect(provider.active()).toBe(2);
    await again.kill();
    await first.kill();
    expect(provider.active()).toBe(1);
    await second.kill();
    expect(provider.active()).toBe(0);

    // A sandbox that is gone is not counted.
    await expect(provider.connect(first.id, spec)).rejects.toBeInstanceOf(SandboxGoneError);
    expect(provider.active()).toBe(0);
  });
});
