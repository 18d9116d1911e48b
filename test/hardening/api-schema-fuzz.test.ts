// #11 hardening: a client that sends whatever /api/openapi.json allows (and much it does not)
// must never get a 5xx, nor a status, content type or body the document does not describe.
// schemathesis (pinned, installed into .tools/ by scripts/ensure-tools.mjs) fuzzes the real
// server: every team route with a team API key, every admin route with the admin token.
// It found NUL characters in query, path and body strings reaching PostgreSQL as 500s.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { findOnPath } from "../../src/sandbox/host-programs.ts";
import { adminToken, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schemathesis = path.join(repoRoot, ".tools", "bin", "st");
const missingReason = "no schemathesis in .tools/bin: run `node scripts/ensure-tools.mjs`";

// On CI a missing fuzzer fails the suite rather than let the API pass unseen.
const installed = findOnPath("st", path.dirname(schemathesis)) !== undefined;
const skip = !installed && process.env.CI !== "true";
if (skip) console.warn(`API schema fuzz test skipped: ${missingReason}`);

const checks = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance"];
// Bounds the run (about half a minute per credential on 2 cores). Fixed seeds make a failure
// reproducible and a pass comparable between runs; these two each found a NUL 500 before the fix.
const maxExamples = 30;
const seeds = { team: 4, admin: 1 };
const runCeilingMs = 150_000;

interface FuzzResult {
  exitCode: number;
  output: string;
}

/** One schemathesis run over the operations `filter` selects, as `token`; its output whole. */
function fuzz(baseUrl: string, token: string, seed: number, filter: string[], workDir: string): Promise<FuzzResult> {
  const args = [
    "run",
    `${baseUrl}/api/openapi.json`,
    "--header",
    `Authorization: Bearer ${token}`,
    "--checks",
    checks.join(","),
    "--max-examples",
    String(maxExamples),
    "--seed",
    String(seed),
    "--workers",
    "1",
    "--request-timeout",
    "30",
    // No example database: every run starts from the seed alone and leaves no files behind.
    "--generation-database",
    "none",
    "--no-color",
    ...filter,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      schemathesis,
      args,
      // Requests go to 127.0.0.1 only, never through a proxy the environment may name.
      { cwd: workDir, env: { ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" }, maxBuffer: 64 * 1024 * 1024, timeout: runCeilingMs },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        if (error && typeof error.code !== "number") return reject(new Error(`schemathesis did not finish (${error.message}):\n${output}`));
        resolve({ exitCode: typeof error?.code === "number" ? error.code : 0, output });
      },
    );
  });
}

/** Fails with what schemathesis found (its failures section, else everything it printed). */
function expectClean(result: FuzzResult): void {
  if (result.exitCode === 0) return;
  const failures = result.output.indexOf("FAILURES");
  const report = failures >= 0 ? result.output.slice(result.output.lastIndexOf("\n", failures) + 1) : result.output;
  throw new Error(`schemathesis exited with ${result.exitCode}:\n${report}`);
}

// One database is enough: what is fuzzed is the HTTP layer, which is the same on both.
describe.skipIf(skip)(`fuzzing the HTTP API against its OpenAPI document (on ${testDatabases[0]})`, () => {
  let server: TestServer;
  let teamKey: string;
  let workDir: string;

  beforeAll(async () => {
    if (!installed) throw new Error(`the API schema fuzz test cannot run: ${missingReason}`);
    server = await startTestServer(testDatabases[0]!);
    // A team with the user and repository the document's examples name, so that creating a task
    // from the examples succeeds and the later operations have a task to act on.
    teamKey = (await seedTeam(server.url, "PostHog", { userId: "42", repository: "posthog/posthog" })).apiKey;
    workDir = await mkdtemp(path.join(tmpdir(), "tasks-schemathesis-"));
  });
  afterAll(async () => {
    await server?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("answers every team route, with a team API key, as documented and never with a 5xx", { timeout: runCeilingMs + 10_000 }, async () => {
    expectClean(await fuzz(server.url, teamKey, seeds.team, ["--exclude-path-regex", "^/api/admin/"], workDir));
  });

  it("answers every admin route, with the admin token, as documented and never with a 5xx", { timeout: runCeilingMs + 10_000 }, async () => {
    expectClean(await fuzz(server.url, adminToken, seeds.admin, ["--include-path-regex", "^/api/admin/"], workDir));
  });
});
