// The operators' probes through the real server: /healthz answers without the database, /readyz
// is ready on PGlite and PostgreSQL and names what fails — a database that went away, a migration
// not applied, a Temporal server that stopped (and ready again once it is back).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { dropPostgresDatabase, openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { client, freePort, localServerEnv, startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { findTemporalServer } from "../temporal/temporal-server.ts";

const probe = (server: { url: string }, urlPath: string) => client(server.url)("GET", urlPath);

describe.each(testDatabases)("health probes on %s", (kind) => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("/healthz answers ok, and /readyz is ready with each check named: database, migrations, the embedded runner", async () => {
    server = await startTestServer(kind, { engine: "embedded" });
    const live = await probe(server, "/healthz");
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: "ok" });

    const ready = await probe(server, "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: "ready",
      checks: {
        database: { status: "ok", kind },
        migrations: { status: "ok" },
        engine: { status: "ok", engine: "embedded", running: 0, queued: 0 },
        accepting: { status: "ok" },
      },
    });
    // The documented /health still answers as before.
    expect((await probe(server, "/health")).body).toMatchObject({ status: "ok", database: kind });
  });

  it("/readyz is 503 naming the migration the database has not applied", async () => {
    server = await startTestServer(kind);
    const [newest] = await server.db.prisma.$queryRaw<{ migration_name: string }[]>`SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1`;
    await server.db.prisma.$executeRaw`DELETE FROM "_prisma_migrations" WHERE migration_name = ${newest!.migration_name}`;

    const ready = await probe(server, "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe("not_ready");
    expect(ready.body.checks.migrations).toEqual({ status: "failing", reason: `not applied: ${newest!.migration_name}` });
    expect(ready.body.checks.database).toEqual({ status: "ok", kind });
  });

  it("answers only GET on the probe paths, and leaves other paths to the rest of the server", async () => {
    server = await startTestServer(kind);
    expect((await client(server.url)("POST", "/readyz")).status).toBe(404);
    expect((await probe(server, "/readyz/extra")).status).toBe(404);
    expect((await probe(server, "/api/tasks")).status).toBe(401);
  });
});

describe.skipIf(!testDatabases.includes("postgres"))("/readyz when PostgreSQL goes away", () => {
  let server: TestServer | undefined;
  afterAll(async () => server?.close());

  it("is 503 naming the database (and the migrations it cannot read), while /healthz and /metrics still answer", async () => {
    server = await startTestServer("postgres", { engine: "embedded" });
    expect((await probe(server, "/readyz")).status).toBe(200);

    // The server's own database is dropped under it: every connection is terminated, none can be made.
    await dropPostgresDatabase(new URL(server.db.url!).pathname.slice(1));

    const ready = await probe(server, "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toEqual({ status: "failing", reason: expect.stringMatching(/does not exist|terminat|connect/i) });
    expect(ready.body.checks.migrations.status).toBe("failing");
    expect(ready.body.checks.engine).toMatchObject({ status: "ok" });
    // The reason is the driver's message, not the connection string.
    expect(ready.text).not.toContain(server.db.url!);
    expect((await probe(server, "/healthz")).status).toBe(200);
    expect((await probe(server, "/metrics")).status).toBe(200);
  });
});

const temporal = findTemporalServer(process.env);
const temporalCli = temporal?.kind === "cli" ? temporal.path : undefined;

describe.skipIf(!temporalCli)("/readyz with Temporal", { timeout: 120_000 }, () => {
  let db: TestDatabase | undefined;
  let web: RunningServer | undefined;
  let temporalProcess: ChildProcess | undefined;
  let dataDir: string | undefined;

  async function startTemporal(port: number): Promise<ChildProcess> {
    const args = ["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", String(port), "--http-port", String(await freePort()), "--metrics-port", String(await freePort()), "--log-level", "error"];
    return spawn(temporalCli!, args, { stdio: "ignore" });
  }
  async function stopTemporal(): Promise<void> {
    const running = temporalProcess;
    temporalProcess = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGTERM");
    await exited;
  }

  afterAll(async () => {
    await web?.close();
    await stopTemporal();
    await db?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("is ready while Temporal answers, 503 naming the engine once it stops, and ready again when it is back", async () => {
    db = await openTestDatabase(testDatabases[0]!);
    dataDir = await mkdtemp(path.join(tmpdir(), "tasks-readyz-"));
    const port = await freePort();
    temporalProcess = await startTemporal(port);
    const config = loadConfig({ ...(await localServerEnv(dataDir)), TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    web = await startServer(config, pino({ level: "silent" }), { database: db });
    const readiness = async () => (await probe(web!, "/readyz")).status;

    // The dev server takes a few seconds to listen.
    await waitFor(async () => (await readiness()) === 200, "/readyz ready with Temporal up", 60_000);
    expect((await probe(web, "/readyz")).body.checks.engine).toEqual({ status: "ok", engine: "temporal" });

    await stopTemporal();
    const down = await probe(web, "/readyz");
    expect(down.status).toBe(503);
    expect(down.body.checks.engine).toEqual({ status: "failing", reason: expect.stringContaining(`Temporal at 127.0.0.1:${port} does not answer`) });
    expect(down.body.checks.database).toMatchObject({ status: "ok" });

    temporalProcess = await startTemporal(port);
    await waitFor(async () => (await readiness()) === 200, "/readyz ready again with Temporal back", 60_000);
  });
});
