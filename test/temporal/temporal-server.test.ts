// How the Temporal tests find their server, and that CI never lets them skip for want of one.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { findTemporalServer, temporalTestServer } from "./temporal-server.ts";

const dir = mkdtempSync(path.join(tmpdir(), "temporal-server-"));
const pathDir = path.join(dir, "path");
const localCli = path.join(dir, "tools-temporal");
const absent = path.join(dir, "absent");
for (const cli of [localCli, path.join(pathDir, "temporal")]) {
  mkdirSync(path.dirname(cli), { recursive: true });
  writeFileSync(cli, "#!/bin/sh\n");
  chmodSync(cli, 0o755);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("findTemporalServer", () => {
  it("prefers TEMPORAL_TEST_ADDRESS", () => {
    expect(findTemporalServer({ TEMPORAL_TEST_ADDRESS: "127.0.0.1:7233", PATH: dir }, localCli)).toEqual({ kind: "existing", address: "127.0.0.1:7233" });
  });

  it("then the CLI on PATH, then the one scripts/ensure-tools.mjs installed", () => {
    expect(findTemporalServer({ PATH: pathDir }, localCli)).toEqual({ kind: "cli", path: path.join(pathDir, "temporal") });
    expect(findTemporalServer({ PATH: absent }, localCli)).toEqual({ kind: "cli", path: localCli });
    expect(findTemporalServer({ PATH: absent }, absent)).toBeUndefined();
  });
});

describe("temporalTestServer without a server", () => {
  it("skips locally, saying why", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(temporalTestServer({ PATH: absent }, absent).skip).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("no Temporal server"));
    warn.mockRestore();
  });

  it("on CI runs the suite and fails it with the reason", async () => {
    const server = temporalTestServer({ PATH: absent, CI: "true" }, absent);
    expect(server.skip).toBe(false);
    await expect(server.open()).rejects.toThrow(/Temporal tests cannot run: no Temporal server/);
  });
});
