// Where the Temporal workflow tests find a server. None is reachable offline (the SDK's
// createLocal() downloads one); they run where TEMPORAL_TEST_ADDRESS points at a server or the
// `temporal` CLI is installed, and say plainly that they were skipped otherwise.
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { TestWorkflowEnvironment } from "@temporalio/testing";

export type TemporalServer = { kind: "existing"; address: string } | { kind: "cli"; path: string };

export const skipReason = "Temporal tests skipped: no Temporal server (set TEMPORAL_TEST_ADDRESS or install the temporal CLI)";

function onPath(command: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function findTemporalServer(env: Record<string, string | undefined>): TemporalServer | undefined {
  if (env.TEMPORAL_TEST_ADDRESS) return { kind: "existing", address: env.TEMPORAL_TEST_ADDRESS };
  const cli = onPath("temporal", env.PATH);
  return cli ? { kind: "cli", path: cli } : undefined;
}

export function openTestEnvironment(server: TemporalServer): Promise<TestWorkflowEnvironment> {
  return server.kind === "existing"
    ? TestWorkflowEnvironment.createFromExistingServer({ address: server.address })
    : TestWorkflowEnvironment.createLocal({ server: { executable: { type: "existing-path", path: server.path } } });
}
