// TASKS_SHUTDOWN_GRACE_SECONDS: how long SIGTERM lets running steps finish (main.ts, worker.ts).
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

describe("TASKS_SHUTDOWN_GRACE_SECONDS", () => {
  it("defaults to 25 seconds, inside Kubernetes' default 30 s termination grace", () => {
    expect(loadConfig({}).shutdown).toEqual({ graceMs: 25_000 });
  });

  it("takes whole seconds, 0 parking running steps at once", () => {
    expect(loadConfig({ TASKS_SHUTDOWN_GRACE_SECONDS: "120" }).shutdown).toEqual({ graceMs: 120_000 });
    expect(loadConfig({ TASKS_SHUTDOWN_GRACE_SECONDS: "0" }).shutdown).toEqual({ graceMs: 0 });
  });

  it("refuses anything else, naming the variable", () => {
    for (const bad of ["-1", "1.5", "soon", "3601"]) {
      expect(() => loadConfig({ TASKS_SHUTDOWN_GRACE_SECONDS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TASKS_SHUTDOWN_GRACE_SECONDS: bad }), bad).toThrow(/^TASKS_SHUTDOWN_GRACE_SECONDS: expected a whole number from 0 to 3600/);
    }
  });
});
