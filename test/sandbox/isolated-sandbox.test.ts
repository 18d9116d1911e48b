// The local sandbox as an isolation boundary: real bubblewrap, real processes, real sockets. Each
// test tries one way out and checks from the host that it was not there.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { createSandboxProvider } from "../../src/sandbox/create-sandbox-provider.ts";
import { probeBubblewrap } from "../../src/sandbox/isolation.ts";
import type { ExecOptions, Sandbox } from "../../src/sandbox/sandbox.ts";

const hostSecret = "host-secret-4f1d9a";
let dataDir: string;
let sandbox: Sandbox;
let gateway: http.Server;
let gatewayUrl: string;
let appPort: number;
let appServer: net.Server;
let registry: http.Server;
let registryPort: number;
const gatewaySaw: string[] = [];

async function listen<T extends net.Server>(server: T): Promise<T> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

const sh = (script: string, options: Partial<ExecOptions> = {}) => sandbox.exec(["sh", "-c", script], { timeoutMs: 20_000, ...options });

/** Host processes whose command line contains `marker`. */
function hostProcessesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(marker) && !cmdline.includes("sh -c")) found.push(`${pid}: ${cmdline}`);
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "tasks-isolated-"));
  // Things of the server's the agent must not see: its data directory's other files, its env.
  await writeFile(path.join(dataDir, "admin-token"), hostSecret, { mode: 0o600 });
  await writeFile(path.join(dataDir, ".env"), `WEBHOOK_SECRET=${hostSecret}\n`);
  process.env["TASKS_TEST_HOST_SECRET"] = hostSecret;

  gateway = await listen(http.createServer((req, res) => {
    gatewaySaw.push(`${req.method} ${req.url}`);
    res.end(`model says hello to ${req.headers["x-api-key"] ?? "nobody"}`);
  }));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  appServer = await listen(net.createServer((socket) => socket.end("app port reached\n")));
  appPort = (appServer.address() as AddressInfo).port;
  registry = await listen(http.createServer((_req, res) => res.end("registry package")));
  registryPort = (registry.address() as AddressInfo).port;

  const config = loadConfig({ TASKS_DATA_DIR: dataDir, PATH: process.env["PATH"], TASKS_EGRESS_ALLOW: "127.0.0.1" });
  sandbox = await createSandboxProvider(config, { gatewayUrl }).create({ taskId: "t", runId: "isolated", timeoutMs: 60_000 });
});

afterAll(async () => {
  delete process.env["TASKS_TEST_HOST_SECRET"];
  await sandbox.kill();
  gateway.close();
  appServer.close();
  registry.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("the isolated local sandbox", () => {
  it("runs commands as an unprivileged user with no capabilities, in the checkout", async () => {
    const result = await sh("id -u; pwd; grep CapEff /proc/self/status");
    expect(result.stdout.split("\n")).toEqual(["1000", sandbox.workdir, "CapEff:\t0000000000000000", ""]);
  });

  it("can write its run directory and nothing else", async () => {
    const result = await sh(`echo made > made.txt && echo ok; for f in /usr/x /etc/x /x /opt/x /bin/x; do touch "$f" 2>/dev/null && echo "WROTE $f"; done; true`);
    expect(result.stdout).toBe("ok\n");
    expect(readFileSync(path.join(sandbox.workdir, "made.txt"), "utf8")).toBe("made\n");
    // Above the run directory is the sandbox's own /tmp (a tmpfs of its own), not the host's.
    const above = await sh(`touch ${dataDir}/planted; ls -A ${dataDir}`);
    expect(above.stdout).toBe("planted\nworkspaces\n");
    expect(existsSync(path.join(dataDir, "planted"))).toBe(false);
  });

  it("sees no file of the server: no data directory beyond its run, no home, no /run or /var", async () => {
    const result = await sh(`ls /; cat ${dataDir}/admin-token ${dataDir}/.env /root/.bashrc 2>&1; ls /home /run /var /srv /sys 2>&1; true`);
    expect(result.stdout).not.toContain(hostSecret);
    expect(result.stdout.split("\n")).toEqual(expect.arrayContaining(["bin", "dev", "etc", "proc", "tmp", "usr"]));
    expect(result.stdout).not.toMatch(/^(root|home|run|var|srv|sys)$/m);
    expect(result.stdout).toContain(`${dataDir}/admin-token: No such file or directory`);
  });

  it("sees only its own processes, and no environment of the server's anywhere in /proc", async () => {
    const result = await sh("ps -eo pid,comm --no-headers; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n' | sort -u");
    expect(result.stdout).not.toContain(hostSecret);
    expect(result.stdout).not.toContain("TASKS_TEST_HOST_SECRET");
    const commands = result.stdout.split("\n").filter((line) => /^\s*\d+ /.test(line)).map((line) => line.trim().split(/\s+/)[1]);
    expect(new Set(commands)).toEqual(new Set(["bwrap", "sh", "ps"]));
  });

  it("has no network: not the app's port, not PostgreSQL, not the outside", async () => {
    const probe = (host: string, port: number) =>
      `node -e 'const s=require("net").connect(${port},"${host}");s.on("connect",()=>{console.log("CONNECTED ${host}:${port}");process.exit(0)});s.on("error",e=>{console.log("${host}:${port} "+e.code);process.exit(0)})'`;
    const result = await sh([probe("127.0.0.1", appPort), probe("127.0.0.1", 5432), probe("1.1.1.1", 443)].join("; "));
    expect(result.stdout).not.toContain("CONNECTED");
    expect(result.stdout).toContain(`127.0.0.1:${appPort} ECONNREFUSED`);
    expect(result.stdout).toContain("127.0.0.1:5432 ECONNREFUSED");
    expect(result.stdout).toMatch(/1\.1\.1\.1:443 (ENETUNREACH|EHOSTUNREACH)/);
  });

  it("reaches the model gateway, and only its /model/ routes, when the command is an agent's", async () => {
    const fetchScript = (route: string) => `node -e 'fetch("http://127.0.0.1:8642${route}",{headers:{"x-api-key":"tgw_run"}}).then(async r=>console.log(r.status, await r.text())).catch(e=>console.log("failed", e.cause?.code))'`;
    const agent = await sh(`${fetchScript("/model/anthropic/v1/messages")}; ${fetchScript("/api/admin/deliveries")}`, { network: "model-gateway" });
    expect(agent.stdout).toContain("200 model says hello to tgw_run");
    expect(agent.stdout).toMatch(/404 .*reaches only the model gateway/);
    expect(gatewaySaw).toEqual(["GET /model/anthropic/v1/messages"]);
    const plain = await sh(fetchScript("/model/anthropic/v1/messages"));
    expect(plain.stdout).toContain("failed ECONNREFUSED");
  });

  it("lets setup commands reach only TASKS_EGRESS_ALLOW, through the egress proxy", async () => {
    const result = await sh(`curl -sS -m 10 http://127.0.0.1:${registryPort}/pkg; echo; curl -sS -m 10 http://10.0.0.1/ 2>&1; true`, { network: "egress" });
    expect(result.stdout).toContain("registry package");
    expect(result.stdout).toMatch(/403|not in TASKS_EGRESS_ALLOW/);
    const noProxy = await sh(`curl -sS -m 5 http://127.0.0.1:${registryPort}/pkg 2>&1; true`);
    expect(noProxy.stdout).not.toContain("registry package");
  });

  it("leaves nothing running once a command ends, setsid or not", async () => {
    const marker = "424242";
    const result = await sh(`setsid sleep ${marker} & (sleep ${marker}1 &) ; echo started`);
    expect(result.stdout).toBe("started\n");
    expect(hostProcessesWith(`sleep ${marker}`)).toEqual([]);
  });

  it("kills everything on timeout", async () => {
    const result = await sh("setsid sleep 434343 & sleep 434343", { timeoutMs: 500 });
    expect(result.timedOut).toBe(true);
    expect(hostProcessesWith("sleep 434343")).toEqual([]);
  });

  it("reports a program it cannot find as the shell would", async () => {
    expect(await sandbox.exec(["no-such-program"], { timeoutMs: 10_000 })).toMatchObject({ exitCode: 127, stderr: "no-such-program: command not found\n" });
  });
});

describe("starting the local sandbox", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tasks-isolated-start-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("refuses to start without a working bubblewrap, and says how to fix it", async () => {
    const fakeBin = path.join(dir, "broken-bin");
    await mkdir(fakeBin);
    await writeFile(path.join(fakeBin, "bwrap"), "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n", { mode: 0o755 });
    expect(probeBubblewrap(path.join(fakeBin, "bwrap"))).toMatch(/No permissions to create new namespace/);
    const start = (PATH: string) => () => createSandboxProvider(loadConfig({ TASKS_DATA_DIR: dir, PATH }));
    expect(start(`${fakeBin}:/usr/bin:/bin`)).toThrow(ConfigError);
    expect(start(`${fakeBin}:/usr/bin:/bin`)).toThrow(/bubblewrap.*No permissions.*apt-get install bubblewrap.*TASKS_SANDBOX=unsafe-host/s);
    expect(start(dir)).toThrow(/bwrap \(bubblewrap\) is not on PATH/);
    const unsafe = { TASKS_DATA_DIR: dir, PATH: dir, TASKS_SANDBOX: "unsafe-host", TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true" };
    expect(() => createSandboxProvider(loadConfig(unsafe))).not.toThrow();
  });

  it("finds the configured agent CLI on the server's PATH (an nvm-style prefix) and binds it read-only", async () => {
    const prefix = path.join(dir, "nvm", "versions", "node", "v20");
    const pkg = path.join(prefix, "lib", "node_modules", "@anthropic-ai", "claude-code");
    await mkdir(path.join(pkg, "bin"), { recursive: true });
    await mkdir(path.join(prefix, "bin"), { recursive: true });
    await writeFile(path.join(pkg, "bin", "claude.exe"), "#!/bin/sh\necho \"fake claude $*\"\n");
    await chmod(path.join(pkg, "bin", "claude.exe"), 0o755);
    await symlink("../lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe", path.join(prefix, "bin", "claude"));
    const systemPath = execFileSync("sh", ["-c", "dirname $(command -v bwrap)"], { encoding: "utf8" }).trim();

    const env = { TASKS_DATA_DIR: path.join(dir, "data"), TASKS_AGENT: "claude" as const, ANTHROPIC_API_KEY: "sk-ant-server" };
    expect(() => createSandboxProvider(loadConfig({ ...env, PATH: `${systemPath}:/bin` }))).toThrow(/TASKS_AGENT=claude runs `claude`.*npm install -g @anthropic-ai\/claude-code/);

    const provider = createSandboxProvider(loadConfig({ ...env, PATH: `${path.join(prefix, "bin")}:${systemPath}:/bin` }));
    const box = await provider.create({ taskId: "t", runId: "cli", timeoutMs: 60_000 });
    try {
      const result = await box.exec(["sh", "-c", `claude --version; touch ${pkg}/bin/planted 2>/dev/null || echo read-only`], { timeoutMs: 10_000 });
      expect(result.stdout).toBe("fake claude --version\nread-only\n");
    } finally {
      await box.kill();
    }
  });
});
