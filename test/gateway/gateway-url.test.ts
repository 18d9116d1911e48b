import { describe, expect, it } from "vitest";
import { modelGatewayUrl } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";

describe("where sandboxes reach the model gateway", () => {
  it("is the app's port on 127.0.0.1 for the embedded runner's local sandbox, and TASKS_PUBLIC_URL for E2B in the cloud", () => {
    expect(modelGatewayUrl(loadConfig({ PORT: "4100", TASKS_PUBLIC_URL: "https://tasks.example.com/" }))).toBe("http://127.0.0.1:4100");
    expect(modelGatewayUrl(loadConfig({ PORT: "4100", E2B_API_KEY: "e2b_x", TASKS_PUBLIC_URL: "https://tasks.example.com/" }))).toBe("https://tasks.example.com");
  });

  it("is TASKS_PUBLIC_URL for a Temporal worker, which may run on another machine than the web process's gateway", () => {
    expect(modelGatewayUrl(loadConfig({ PORT: "4100", TEMPORAL_ADDRESS: "temporal:7233", TASKS_PUBLIC_URL: "https://tasks.example.com/" }))).toBe("https://tasks.example.com");
  });
});
