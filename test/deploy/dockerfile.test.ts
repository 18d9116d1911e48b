// The Dockerfile is never built on these machines (no Docker engine), so its structure is checked
// here: a build stage and a small runtime stage, a non-root user, the tools the sandbox needs, the
// entry points package.json names, sources that exist and are not ignored, and a HEALTHCHECK whose
// command is run for real against a real server.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configVariables } from "../../src/config.ts";
import { freePort, startTestServer, type TestServer } from "../helpers/server.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions by stage: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === "FROM") {
      const [, base = "", name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ base, name, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`${keyword} before the first FROM`);
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = parseDockerfile(read("Dockerfile"));
const build = stages[0]!;
const runtime = stages.at(-1)!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);
const execForm = (args: string) => JSON.parse(args) as string[];
const packageJson = JSON.parse(read("package.json")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
const dockerignore = read(".dockerignore").split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#"));

/** `npm start` / `npm run worker` as node runs them in the image: `tsx <file>` → that file. */
function scriptEntry(name: string): string {
  const match = /^tsx (\S+\.ts)$/.exec(packageJson.scripts[name] ?? "");
  if (!match) throw new Error(`package.json script ${name} is not "tsx <file>": ${packageJson.scripts[name]}`);
  return match[1]!;
}

describe("Dockerfile", () => {
  it("builds in a stage with dev dependencies and runs from a separate node:20-bookworm-slim stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe("build");
    expect(runtime.name).toBe("runtime");
    for (const stage of stages) expect(stage.base).toBe("node:20-bookworm-slim");
    // The full install (dev deps: the prisma CLI) generates the client, then dev deps are pruned.
    expect(all(build, "RUN").join("\n")).toMatch(/npm ci && npm prune --omit=dev/);
    // The runtime stage installs no project dependencies of its own: it takes the pruned ones.
    expect(all(runtime, "RUN").join("\n")).not.toMatch(/npm (ci|install)(?! -g)/);
    const fromBuild = all(runtime, "COPY").filter((args) => args.startsWith("--from=build"));
    expect(fromBuild).toEqual(["--from=build /app/node_modules ./node_modules", "--from=build /app/src/generated ./src/generated"]);
  });

  it("gives the build stage what `npm ci`'s postinstall needs to generate the Prisma client", () => {
    expect(packageJson.scripts["postinstall"]).toBe("node scripts/prisma-generate.mjs");
    const copied = all(build, "COPY").flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "scripts", "prisma", "prisma.config.ts"]));
  });

  it("runs as the unprivileged node user, with git, CA certificates and bubblewrap installed", () => {
    const user = last(runtime, "USER");
    expect(user).toBe("node");
    expect(["root", "0"]).not.toContain(user);
    // USER comes before the CMD it applies to, and nothing after it switches back.
    const keywords = runtime.instructions.map((instruction) => instruction.keyword);
    expect(keywords.lastIndexOf("USER")).toBeLessThan(keywords.lastIndexOf("CMD"));
    const apt = all(runtime, "RUN").find((args) => args.includes("apt-get install"));
    expect(apt?.split(/\s+/)).toEqual(expect.arrayContaining(["git", "ca-certificates", "bubblewrap", "--no-install-recommends"]));
    expect(apt).toContain("rm -rf /var/lib/apt/lists/*");
  });

  it("installs the agent CLIs at the versions package.json pins for the tests", () => {
    const install = all(runtime, "RUN").find((args) => args.includes("npm install -g"))!;
    for (const name of ["@anthropic-ai/claude-code", "@openai/codex"]) {
      expect(install, name).toContain(`${name}@${packageJson.devDependencies[name]}`);
    }
  });

  it("runs the web process by default and `npm start`'s entry point, with node itself so SIGTERM reaches it", () => {
    const start = scriptEntry("start");
    expect(start).toBe("src/main.ts");
    expect(execForm(last(runtime, "CMD")!)).toEqual(["node", "--import", "tsx", start]);
    expect(existsSync(new URL(`../../${start}`, import.meta.url))).toBe(true);
  });

  it("runs the worker from the same image: `npm run worker`'s entry point, as docker-compose.yml's worker does", () => {
    const worker = scriptEntry("worker");
    expect(existsSync(new URL(`../../${worker}`, import.meta.url))).toBe(true);
    const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, { command?: string[]; build?: string; healthcheck?: { disable?: boolean } }> };
    expect(compose.services["worker"]!.command).toEqual(["node", "--import", "tsx", worker]);
    expect(compose.services["worker"]!.build).toBe(compose.services["web"]!.build);
    // The worker serves no HTTP: the image's HEALTHCHECK is off for it.
    expect(compose.services["worker"]!.healthcheck).toEqual({ disable: true });
  });

  it("copies into the runtime only sources that exist and .dockerignore lets through, and everything the server reads", () => {
    const sources = all(runtime, "COPY")
      .filter((args) => !args.startsWith("--from="))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      expect(existsSync(new URL(`../../${source}`, import.meta.url)), source).toBe(true);
      expect(dockerignore, source).not.toContain(source);
    }
    // server.ts reads app.yml (setup flow) and package.json (version); db/migrate.ts reads prisma/migrations; bin/tasks.js is the CLI.
    expect(sources).toEqual(expect.arrayContaining(["src", "prisma", "app.yml", "package.json", "bin"]));
    expect(existsSync(`${root}prisma/migrations`)).toBe(true);
  });

  it("keeps secrets, local state and build output out of the build context", () => {
    expect(dockerignore).toEqual(expect.arrayContaining(["node_modules", ".git", ".data", "src/generated", ".env", "*.pem"]));
  });

  it("sets only environment the server knows, and keeps its data on the /data volume", () => {
    const env = Object.fromEntries(all(runtime, "ENV").flatMap((args) => args.split(/\s+/).map((pair) => pair.split("=") as [string, string])));
    const known = new Set([...configVariables, "NODE_ENV"]);
    expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
    expect(env).toMatchObject({ HOST: "0.0.0.0", PORT: "3000", TASKS_DATA_DIR: "/data" });
    expect(all(runtime, "RUN").join("\n")).toContain("chown node:node /data");
  });
});

describe("the image's HEALTHCHECK", () => {
  const healthcheck = last(runtime, "HEALTHCHECK")!;
  const command = execForm(healthcheck.slice(healthcheck.indexOf("CMD ") + 4));
  const run = (port: number) =>
    promisify(execFile)(command[0]!, command.slice(1), { env: { PATH: process.env["PATH"] ?? "", PORT: String(port) } }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );

  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer("pglite");
  });
  afterAll(async () => server?.close());

  it("is node's fetch on /healthz (the image has no curl), with a timeout and a start period", () => {
    expect(healthcheck).toMatch(/--timeout=\d+s/);
    expect(healthcheck).toMatch(/--start-period=\d+s/);
    expect(command.slice(0, 2)).toEqual(["node", "-e"]);
    expect(command[2]).toContain("/healthz");
  });

  it("passes against a running server on $PORT", async () => {
    expect(await run(server.port)).toBe(0);
  });

  it("fails when nothing answers on $PORT", async () => {
    expect(await run(await freePort())).toBe(1);
  });
});
