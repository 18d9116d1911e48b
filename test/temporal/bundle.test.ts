// The workflow bundle is built the way the worker builds it (webpack, Temporal's sandbox rules),
// offline. A workflow importing Node or database modules must fail here, not in production.
import { fileURLToPath } from "node:url";
import { bundleWorkflowCode } from "@temporalio/worker";
import { describe, expect, it } from "vitest";

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const pathOf = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

describe("workflow bundle", () => {
  it("bundles src/temporal/workflows.ts with its pure pipeline imports", { timeout: 120_000 }, async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: pathOf("../../src/temporal/workflows.ts"), logger: silent });
    expect(bundle.code).toContain("taskWorkflow");
    expect(bundle.code).toContain("startPipeline");
  });

  // The fixtures sit inside the project so that @temporalio/workflow resolves: the only thing
  // wrong with them is the import under test.
  it.each([
    { imports: "fs", fixture: "./fixtures/fs-workflow.ts", flagged: "fs" },
    { imports: "pg", fixture: "./fixtures/pg-workflow.ts", flagged: "net" },
  ])("refuses a workflow that imports $imports", { timeout: 120_000 }, async ({ fixture, flagged }) => {
    const bundling = bundleWorkflowCode({ workflowsPath: pathOf(fixture), logger: silent });
    await expect(bundling).rejects.toThrow(/importing the following disallowed modules/);
    await expect(bundling).rejects.toThrow(`- '${flagged}'`);
  });
});
