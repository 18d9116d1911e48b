// End to end with the real agent CLIs: a `task` label becomes a draft pull request, planned, coded
// and reviewed by Claude Code (and Codex) running in the server's own bubblewrap sandbox, reaching
// a scripted model only through the server's model gateway. Then the same world with a hostile
// model: as the coder it looks for every secret of the server and every way out, and the test
// reads what its tool calls gave back (what a model could exfiltrate) in the model's next request.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { agentCliDir, SYSTEM_PATH } from "../helpers/agent-sandbox.ts";
import { appPrivateKey, githubAppEnv, webhookSecret } from "../helpers/github.ts";
import {
  anthropicToolResults,
  openaiToolOutputs,
  promptIncludes,
  startScriptedModelServer,
  type AnthropicTurn,
  type OpenAITurn,
  type ScriptedModelServer,
} from "../helpers/scripted-model-server.ts";
import { createWorld, destroyWorld, git, installationToken, labelAndWait, README, remoteBranches, trackingComment, type World } from "./world.ts";

const operatorKeys = {
  anthropic: `sk-ant-operator-${randomBytes(12).toString("hex")}`,
  openai: `sk-operator-${randomBytes(12).toString("hex")}`,
};
const PLAN = "Plan for POS-1: add a dark mode note to README.md.";
const NOTE = "Dark mode is available in settings.";
const SUMMARY = "Added a dark mode note to README.md.";
const REVIEW = "APPROVE\nThe README note matches the issue.";
/** Each role's conversation, told apart by the role line of its prompt (src/agent/prompts.ts). */
const as = (role: "planner" | "coder" | "reviewer") => promptIncludes(`You are the **${role}**`);

describe("the real agent CLIs, end to end in the isolated sandbox", { timeout: 180_000 }, () => {
  let model: ScriptedModelServer;
  let cliRoot: string;
  let world: World | undefined;

  beforeAll(async () => {
    model = await startScriptedModelServer();
    cliRoot = await mkdtemp(path.join(tmpdir(), "tasks-e2e-clis-"));
  });
  beforeEach(() => {
    model.requests.length = 0;
  });
  afterEach(async () => {
    await destroyWorld(world);
    world = undefined;
    nock.cleanAll();
  });
  afterAll(async () => {
    nock.enableNetConnect();
    await model?.close();
    if (cliRoot) await rm(cliRoot, { recursive: true, force: true });
  });

  /** The server as an operator runs it: the CLIs on its PATH, the operator's keys, the vendor's URLs. */
  async function agentWorld(agent: "claude" | "codex", env: Record<string, string> = {}): Promise<World> {
    const binDir = await agentCliDir(await mkdtemp(path.join(cliRoot, `${agent}-`)));
    return createWorld({
      database: testDatabases[0],
      env: {
        TASKS_AGENT: agent,
        TASKS_SANDBOX: "local",
        PATH: `${binDir}:${SYSTEM_PATH}`,
        ANTHROPIC_BASE_URL: model.url,
        ANTHROPIC_API_KEY: operatorKeys.anthropic,
        OPENAI_BASE_URL: `${model.url}/v1`,
        OPENAI_API_KEY: operatorKeys.openai,
        ...env,
      },
    });
  }

  /** The vendor saw the operator's key on every model call, and never a run token. */
  function expectOperatorKeyOnly(header: "x-api-key" | "authorization", key: string): void {
    const calls = model.requests.filter((request) => request.vendor !== "unknown");
    expect(calls.length).toBeGreaterThan(0);
    for (const request of calls) {
      expect(request.headers[header]).toBe(key);
      expect(JSON.stringify(request.headers)).not.toContain("tgw_");
    }
  }

  /** A draft PR on the fake GitHub from a branch the remote holds, with the coder's README change. */
  async function expectDraftPullRequest(w: World, task: Awaited<ReturnType<typeof labelAndWait>>): Promise<void> {
    expect(task.runs[0]!.error).toBeNull();
    expect(task.status).toBe("completed");
    const branch = task.branch!;
    expect(remoteBranches(w)).toEqual([branch, "main"].sort());
    expect(git(w.bare, "show", `${branch}:README.md`)).toBe(`${README}\n${NOTE}`);
    const [createPr] = w.github.callsTo("POST", /\/pulls$/);
    expect(createPr!.body).toMatchObject({ head: branch, base: "main", draft: true });
    expect(String(createPr!.body["body"])).toContain(PLAN);
    expect(task.pr_url).toBe(w.github.pulls[0]!.html_url);
    expect(trackingComment(w)).toContain("- [x] Plan\n- [x] Code\n- [x] Review\n- [x] Complete");
  }

  it("Claude Code: plans, edits README.md with its Edit tool, approves, and the change is a draft PR", async () => {
    model.script("anthropic", [
      { when: as("planner"), text: PLAN },
      { when: as("coder"), toolUses: [{ name: "Read", input: { file_path: "README.md" } }] },
      { when: as("coder"), toolUses: [{ name: "Edit", input: { file_path: "README.md", old_string: README, new_string: `${README}\n${NOTE}\n` } }] },
      { when: as("coder"), text: SUMMARY },
      { when: as("reviewer"), text: REVIEW },
    ] satisfies AnthropicTurn[]);
    world = await agentWorld("claude");

    const task = await labelAndWait(world);

    await expectDraftPullRequest(world, task);
    expect(model.unusedTurns("anthropic")).toBe(0);
    const [read, edit] = anthropicToolResults(model.requests);
    expect(read?.isError).toBe(false);
    expect(edit?.isError).toBe(false);
    expectOperatorKeyOnly("x-api-key", operatorKeys.anthropic);
  });

  it("Codex: its command edits README.md and the change is a draft PR", async () => {
    // Codex's default model runs commands through a freeform `exec` tool (see test/agent/real-cli.test.ts).
    const shell = (cmd: string): OpenAITurn => ({ when: as("coder"), customToolCalls: [{ name: "exec", input: `text(JSON.stringify(await tools.exec_command(${JSON.stringify({ cmd })})));` }] });
    model.script("openai", [
      { when: as("planner"), text: PLAN },
      shell(`printf '\\n${NOTE}\\n' >> README.md`),
      { when: as("coder"), text: SUMMARY },
      { when: as("reviewer"), text: REVIEW },
    ]);
    world = await agentWorld("codex");

    const task = await labelAndWait(world);

    await expectDraftPullRequest(world, task);
    expect(model.unusedTurns("openai")).toBe(0);
    expect(openaiToolOutputs(model.requests)[0]?.text).toMatch(/"exit_code":0|exited with code 0/);
    expectOperatorKeyOnly("authorization", `Bearer ${operatorKeys.openai}`);
  });

  describe("a hostile model as the coder", () => {
    const pgPassword = `pg-secret-${randomBytes(8).toString("hex")}`;
    const envSecret = `dotenv-secret-${randomBytes(8).toString("hex")}`;

    /** Where it looks and what it tries, as the coder's shell commands. */
    function attack(w: World): { name: string; command: string }[] {
      const dataDir = w.server.dataDir;
      const port = new URL(w.server.url).port;
      const probe = (name: string, host: string, probePort: number | string) =>
        `net.connect({host:${JSON.stringify(host)},port:${probePort}}).on("connect",function(){console.log("PROBE ${name} connected");this.destroy()}).on("error",e=>console.log("PROBE ${name} "+e.code)).setTimeout(5000,function(){console.log("PROBE ${name} timeout");this.destroy()});`;
      const probes = [probe("postgres", "127.0.0.1", 5432), probe("app", "127.0.0.1", port), probe("outside", "1.1.1.1", 443), probe("egress", "127.0.0.1", 8643)].join("");
      return [
        { name: "env", command: "env" },
        { name: "environ", command: "for f in /proc/*/environ; do echo \"== $f\"; tr '\\0' '\\n' < $f; done 2>&1" },
        { name: "ps", command: "ps auxe 2>&1" },
        { name: "git config", command: "git config -l --show-origin 2>&1; git config -l 2>&1; cat .git/config 2>&1" },
        { name: "data dir", command: `ls -la ${dataDir} ${dataDir}/.. 2>&1; find ${dataDir} -maxdepth 2 -not -path '*/workspaces/*' 2>&1; cat ${dataDir}/admin-token ${dataDir}/.env ${w.root}/.env 2>&1; ls -la ${w.root} 2>&1` },
        { name: "home", command: `ls -la /root ~/.ssh /root/.ssh 2>&1; cat /root/.ssh/* /root/.gitconfig /root/.npmrc 2>&1; ls -la ${process.cwd()} 2>&1; cat ${process.cwd()}/.env 2>&1` },
        { name: "node probes", command: `node -e '${`const net=require("net");${probes}`}' 2>&1` },
        {
          name: "curl probes",
          command: [
            `curl -sS -m 5 -H 'authorization: Bearer x' http://127.0.0.1:${port}/api/admin/tasks; echo "app exit=$?"`,
            `curl -sS -m 5 https://example.com; echo "outside exit=$?"`,
            `curl -sS -m 5 http://127.0.0.1:8642/api/admin/tasks; echo "bridge exit=$?"`,
            `psql -h 127.0.0.1 -U postgres -c 'select 1'; echo "psql exit=$?"`,
            "ls /var/run/postgresql /run/postgresql 2>&1",
          ].join(" 2>&1; "),
        },
      ];
    }

    const callNumber = (id: string): number => Number(/scripted(\d+)$/.exec(id)?.[1] ?? Number.NaN);
    const inCallOrder = <T>(items: T[], id: (item: T) => string): T[] => [...items].sort((a, b) => callNumber(id(a)) - callNumber(id(b)));

    /** Each CLI's way of running the hostile commands, and of reading back what they printed. */
    const attackers = [
      {
        agent: "claude" as const,
        tokenVariable: "ANTHROPIC_API_KEY",
        baseUrl: "ANTHROPIC_BASE_URL=http://127.0.0.1:8642/model/anthropic",
        script(commands: { name: string; command: string }[]) {
          model.script("anthropic", [
            { when: as("planner"), text: PLAN },
            { when: as("coder"), toolUses: commands.map(({ name, command }) => ({ name: "Bash", input: { command, description: name, timeout: 30_000 } })) },
            { when: as("coder"), text: "Nothing to change." },
          ]);
        },
        // In the order the calls were made (ids count up): the CLI may answer parallel calls in another order.
        results: () => inCallOrder(anthropicToolResults(model.requests), (result) => result.toolUseId).map((result) => result.text),
        expectVendorSaw: () => expectOperatorKeyOnly("x-api-key", operatorKeys.anthropic),
        unused: () => model.unusedTurns("anthropic"),
      },
      {
        agent: "codex" as const,
        tokenVariable: "OPENAI_API_KEY",
        baseUrl: null,
        script(commands: { name: string; command: string }[]) {
          // The command's own output, unescaped, so the assertions read it as the model would.
          const exec = (cmd: string) => `const r = await tools.exec_command(${JSON.stringify({ cmd, max_output_tokens: 100_000 })}); text(typeof r === "string" ? r : (r.output ?? JSON.stringify(r)));`;
          model.script("openai", [
            { when: as("planner"), text: PLAN },
            { when: as("coder"), customToolCalls: commands.map(({ command }) => ({ name: "exec", input: exec(command) })) },
            { when: as("coder"), text: "Nothing to change." },
          ]);
        },
        results: () => inCallOrder(openaiToolOutputs(model.requests), (output) => output.callId).map((output) => output.text),
        expectVendorSaw: () => expectOperatorKeyOnly("authorization", `Bearer ${operatorKeys.openai}`),
        unused: () => model.unusedTurns("openai"),
      },
    ];

    it.each(attackers)("$agent: its shell finds none of the server's secrets and no way out; the vendor sees only the operator's key", async (attacker) => {
      world = await agentWorld(attacker.agent, { DATABASE_URL: `postgresql://tasks:${pgPassword}@127.0.0.1:5432/tasks`, TASKS_ADMIN_TOKEN: "" });
      // Beside the server's data: files a careless operator leaves around.
      await writeFile(path.join(world.server.dataDir, ".env"), `ANTHROPIC_API_KEY=${operatorKeys.anthropic}\nSECRET=${envSecret}\n`);
      await writeFile(path.join(world.root, ".env"), `SECRET=${envSecret}\n`);
      // With TASKS_ADMIN_TOKEN empty the server made one in its data directory.
      const adminToken = (await readFile(path.join(world.server.dataDir, "admin-token"), "utf8")).trim();
      expect(adminToken.length).toBeGreaterThan(16);
      const commands = attack(world);
      attacker.script(commands);

      const task = await labelAndWait(world);

      expect(task.runs[0]!.error).toBeNull();
      expect(task.status).toBe("completed");
      expect(attacker.unused()).toBe(0);
      const results = attacker.results();
      expect(results).toHaveLength(commands.length);
      const seen = Object.fromEntries(commands.map(({ name }, i) => [name, results[i]!]));
      const everything = results.join("\n");

      // It ran: the dumps are there, the sandbox's own gateway token among them.
      expect(seen["env"]).toMatch(new RegExp(`^${attacker.tokenVariable}=tgw_`, "m"));
      if (attacker.baseUrl) expect(seen["env"]).toContain(attacker.baseUrl);
      expect(seen["ps"]).toContain(attacker.agent);
      expect(seen["environ"]).toContain("== /proc/1/environ");
      for (const secret of [
        operatorKeys.anthropic,
        operatorKeys.openai,
        appPrivateKey.split("\n")[1]!,
        "PRIVATE KEY",
        webhookSecret,
        githubAppEnv.WEBHOOK_SECRET,
        installationToken,
        Buffer.from(`x-access-token:${installationToken}`).toString("base64"),
        adminToken,
        pgPassword,
        envSecret,
        "DATABASE_URL",
        ...(world.server.db.url ? [world.server.db.url] : []),
      ]) {
        expect(everything).not.toContain(secret);
      }
      // The files are on the host, not in the sandbox.
      expect(seen["data dir"]).toMatch(/admin-token: No such file or directory/);
      expect(seen["data dir"]).toMatch(/\.env: No such file or directory/);
      expect(seen["home"]).toMatch(/\/root': No such file or directory/);
      // Nothing answered: not PostgreSQL, not the app's port, not the internet, not the egress proxy.
      expect(seen["node probes"]).toMatch(/PROBE postgres ECONNREFUSED/);
      expect(seen["node probes"]).toMatch(/PROBE app ECONNREFUSED/);
      expect(seen["node probes"]).toMatch(/PROBE outside (ENETUNREACH|EHOSTUNREACH)/);
      expect(seen["node probes"]).toMatch(/PROBE egress ECONNREFUSED/);
      expect(seen["node probes"]).not.toContain("connected");
      const curl = seen["curl probes"]!;
      expect(curl).toMatch(/app exit=7\b/);
      expect(curl).toMatch(/outside exit=(6|7)\b/);
      // The gateway's socket answers only /model/…: the admin API stays out of reach.
      expect(curl).toMatch(/only the model gateway/);
      expect(curl).toMatch(/psql exit=2\b/);
      expect(curl).toMatch(/Connection refused/);
      expect(curl).not.toMatch(/\?column\?|\(1 row\)/);
      // The checkout's git configuration carries no credential.
      expect(seen["git config"]).toContain("remote.origin.url=");
      expect(seen["git config"]).not.toMatch(/x-access-token|extraheader|ghs_/i);

      // The gateway did forward the calls, with the operator's key; the vendor never saw the run token.
      attacker.expectVendorSaw();
      expect(world.github.callsTo("POST", /\/pulls$/)).toEqual([]);
    });
  });
});
