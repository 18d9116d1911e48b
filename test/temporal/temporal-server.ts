// Where the Temporal workflow tests find a server: TEMPORAL_TEST_ADDRESS, else the `temporal` CLI
// on PATH or in .tools/bin (scripts/ensure-tools.mjs puts it there; the SDK's own createLocal()
// would download one, which cannot work offline). Without one the tests skip and say why — except
// on CI, where a missing server must fail them rather than let them pass unseen.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { findOnPath } from "../../src/sandbox/host-programs.ts";

export type TemporalServer = { kind: "existing"; address: string } | { kind: "cli"; path: string };

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const toolsCli = path.join(repoRoot, ".tools", "bin", "temporal");

export const missingReason = "no Temporal server: set TEMPORAL_TEST_ADDRESS, put the temporal CLI on PATH, or run `node scripts/ensure-tools.mjs`";

export function findTemporalServer(env: Record<string, string | undefined>, localCli = toolsCli): TemporalServer | undefined {
  if (env.TEMPORAL_TEST_ADDRESS) return { kind: "existing", address: env.TEMPORAL_TEST_ADDRESS };
  const cli = findOnPath("temporal", env.PATH ?? "")?.real ?? findOnPath(path.basename(localCli), path.dirname(localCli))?.real;
  return cli ? { kind: "cli", path: cli } : undefined;
}

export interface TemporalTestServer {
  /** Only locally: on CI the suite runs and fails in `open()`. */
  skip: boolean;
  /** Starts (or connects to) the server; throws the reason when there is none. */
  open(): Promise<TestWorkflowEnvironment>;
}

/** What a Temporal test file does about its server; warns once when the suite will skip. */
export function temporalTestServer(env: Record<string, string | undefined>, localCli = toolsCli): TemporalTestServer {
  const server = findTemporalServer(env, localCli);
  const skip = !server && env.CI !== "true";
  if (skip) console.warn(`Temporal tests skipped: ${missingReason}`);
  return {
    skip,
    open: () => (server ? openTestEnvironment(server) : Promise.reject(new Error(`Temporal tests cannot run: ${missingReason}`))),
  };
}

export function openTestEnvironment(server: TemporalServer): Promise<TestWorkflowEnvironment> {
  return server.kind === "existing"
    ? TestWorkflowEnvironment.createFromExistingServer({ address: server.address })
    : TestWorkflowEnvironment.createLocal({ server: { executable: { type: "existing-path", path: server.path } } });
}
