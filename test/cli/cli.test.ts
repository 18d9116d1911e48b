// The `tasks` CLI against a real server: admin commands, where the token comes from, and how
// failures look (one line on stderr, empty stdout, exit 2 for usage and 1 for the rest).
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, client, freePort, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";
import { parseJson, runCli, type CliResult } from "./run-cli.ts";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectFailure(result: CliResult, code: number, message: string | RegExp) {
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(typeof message === "string" ? `tasks: ${message}` : message);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.code).toBe(code);
}

describe("tasks CLI: admin commands", () => {
  let server: TestServer;
  let tasks: (...args: string[]) => Promise<CliResult>;

  beforeAll(async () => {
    server = await startTestServer("pglite");
    await seedTeam(server.url, "PostHog");
    tasks = (...args) => runCli(["--url", server.url, ...args], { TASKS_ADMIN_TOKEN: adminToken });
  });
  afterAll(async () => server?.close());

  it("creates and lists teams, as JSON and as text", async () => {
    const [created, shown] = await Promise.all([tasks("team", "create", "Acme", "--json"), tasks("team", "create", "Beta Corp")]);
    expect(parseJson(created)).toEqual({ id: expect.stringMatching(uuid), name: "Acme", prefix: expect.stringMatching(/^[A-Z]+$/) });
    expect(shown.stdout).toMatch(/^Created team Beta Corp \(prefix [A-Z]+, id [0-9a-f-]{36}\)\n$/);
    expect(shown.code).toBe(0);

    const [listed, table] = await Promise.all([tasks("team", "list", "--json"), tasks("team", "list")]);
    const { teams } = parseJson<{ teams: { name: string }[] }>(listed);
    expect(teams.map((team) => team.name).sort()).toEqual(["Acme", "Beta Corp", "PostHog"]);
    expect(Object.keys(parseJson(listed))).toEqual(["teams"]);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+PREFIX\s+ID$/);
    expect(rows.find((row) => row.startsWith("Beta Corp"))).toMatch(/^Beta Corp\s+[A-Z]+\s+[0-9a-f-]{36}$/);
  });

  it("configures a team: users, API keys, flags and integrations", async () => {
    const [user, key, keyText, flag, integration] = await Promise.all([
      tasks("user", "add", "--team", "PostHog", "7", "--github", "octocat", "--email", "octo@example.com", "--json"),
      tasks("apikey", "create", "--team", "PostHog", "--name", "ci", "--json"),
      tasks("apikey", "create", "--team", "PostHog"),
      tasks("flag", "set", "tasks", "off", "--team", "PostHog", "--json"),
      tasks("integration", "add", "--team", "PostHog", "--installation", "987654", "--repo", "posthog/a", "--repo", "posthog/b", "--json"),
    ]);
    expect(parseJson(user)).toEqual({ id: expect.stringMatching(uuid), external_id: "7", github_login: "octocat", email: "octo@example.com" });
    expect(parseJson(key)).toEqual({ id: expect.stringMatching(uuid), name: "ci", key: expect.stringMatching(/^tsk_/) });
    expect(keyText.stdout).toMatch(/^Created API key "default" for team PostHog \(id [0-9a-f-]{36}\):\n\n {2}tsk_\S+\n\n.*cannot be shown again/);
    expect(parseJson(flag)).toEqual({ team: "PostHog", flag: "tasks", enabled: false, source: "local" });
    expect(parseJson(integration)).toEqual({
      id: expect.stringMatching(uuid),
      installation_id: 987654,
      account: null,
      repositories: expect.arrayContaining(["posthog/a", "posthog/b"]),
      suspended: false,
    });

    // The key the CLI printed is a working team key.
    const api = client(server.url, parseJson<{ key: string }>(key).key);
    expect((await api("GET", "/api/tasks")).status).toBe(200);
  });

  it("reads the token the server wrote into TASKS_DATA_DIR/admin-token, and says when there is none", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "tasks-cli-"));
    const emptyDir = await mkdtemp(path.join(tmpdir(), "tasks-cli-"));
    try {
      await writeFile(path.join(dataDir, "admin-token"), `${adminToken}\n`, { mode: 0o600 });
      await chmod(path.join(dataDir, "admin-token"), 0o600);
      // No --url and no --token: http://localhost:$PORT and the file.
      const [fromFile, missing] = await Promise.all([
        runCli(["team", "list", "--json"], { PORT: String(server.port), TASKS_DATA_DIR: dataDir }),
        runCli(["team", "list"], { PORT: String(server.port), TASKS_DATA_DIR: emptyDir }),
      ]);
      expect(fromFile.stderr).toBe("");
      expect(parseJson(fromFile)).toEqual({ teams: expect.arrayContaining([expect.objectContaining({ name: "PostHog" })]) });
      expectFailure(missing, 1, `no admin token: start the server once or set TASKS_ADMIN_TOKEN (looked for ${path.join(emptyDir, "admin-token")})`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await rm(emptyDir, { recursive: true, force: true });
    }
  });

  it("reports the server's errors on stderr with exit 1", async () => {
    const [wrongToken, wrongTokenJson, noTeam, duplicate] = await Promise.all([
      tasks("team", "list", "--token", "not-the-admin-token"),
      tasks("team", "list", "--token", "not-the-admin-token", "--json"),
      tasks("user", "add", "--team", "Nope", "1"),
      tasks("team", "create", "PostHog", "--json"),
    ]);
    expectFailure(wrongToken, 1, /^tasks: the server refused the admin token from --token \(.+\)\n$/);
    expect(wrongTokenJson.stdout).toBe("");
    expect(wrongTokenJson.code).toBe(1);
    expect(JSON.parse(wrongTokenJson.stderr)).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("refused the admin token") } });
    expectFailure(noTeam, 1, 'no team "Nope"');
    expect(JSON.parse(duplicate.stderr)).toEqual({ error: { code: "team_exists", message: 'a team named "PostHog" already exists', field: "name" } });
    expect(duplicate.stdout).toBe("");
  });

  it("names the URL when the server cannot be reached", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(["team", "list", "--url", url, "--token", adminToken]);
    expectFailure(result, 1, new RegExp(`^tasks: cannot reach the Tasks server at ${url}: .*ECONNREFUSED`));
  });

  it("rejects usage errors with exit 2 before contacting the server", async () => {
    // No token and no server: a usage error must not depend on either.
    const offline = (...args: string[]) => runCli(["--url", "http://127.0.0.1:9", ...args]);
    const results = await Promise.all([
      offline("frobnicate"),
      offline("team", "delete", "x"),
      offline("team", "list", "--bogus"),
      offline("team", "create"),
      offline("flag", "set", "tasks", "maybe", "--team", "PostHog"),
      offline("integration", "add", "--team", "PostHog", "--installation", "12abc", "--repo", "a/b"),
      offline("integration", "add", "--team", "PostHog", "--installation", "5"),
      offline("list", "--limit", "0"),
      offline("show", "POS-1", "extra"),
      offline("show", "--team", "PostHog", "POS-1"),
      offline("list", "--team"),
      offline("show", ""),
      offline("frobnicate", "--json"),
    ]);
    const messages = [
      'unknown command "frobnicate"',
      'unknown command "team delete"',
      "unknown option --bogus",
      "missing <name>",
      'the flag state must be on or off (got "maybe")',
      '--installation must be a positive integer, the GitHub App installation id (got "12abc")',
      "missing --repo <org/repo>",
      '--limit must be a whole number from 1 to 100 (got "0")',
      'unexpected argument "extra"',
      '"tasks show" takes no --team',
      "--team needs a value",
      "<slug|id> must not be empty",
    ];
    messages.forEach((message, index) => expectFailure(results[index]!, 2, message));
    const asJson = results[messages.length]!;
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stderr)).toEqual({ error: { code: "usage", message: expect.stringContaining("frobnicate") } });
  });

  it("prints help, globally and per command", async () => {
    const [global, command, group] = await Promise.all([runCli(["--help"]), runCli(["integration", "add", "-h"]), runCli(["team", "--help"])]);
    expect(global.code).toBe(0);
    for (const words of ["team create", "team list", "user add", "apikey create", "flag set", "integration add", "list", "show", "cancel"]) {
      expect(global.stdout).toContain(`tasks ${words}`);
    }
    expect(command.stdout).toMatch(/^Usage: tasks integration add --team <team> --installation <id> --repo <org\/repo>\.\.\./);
    expect(command.stdout).toContain("--json");
    expect(group.stdout).toContain("tasks team create <name>");
  });
});
