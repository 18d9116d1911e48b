// Where the real agent CLIs are: the native binaries their npm packages ship in per-platform
// optional dependencies (devDependencies of this project). They are run directly, not through the
// packages' bins: Claude Code's `bin/claude.exe` is a placeholder until its postinstall copies the
// binary over it, and install scripts do not run here; Codex's `bin/codex.js` only finds and execs
// the same binary. A missing binary fails with what to do, never with a skipped test.
import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/** `linux-x64`, `linux-x64-musl`, `darwin-arm64` …: the suffix of the platform packages. */
function platformKey(): string {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== "linux") return base;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? base : `${base}-musl`;
}

const codexTargets: Record<string, string> = {
  "linux-x64": "x86_64-unknown-linux-musl",
  "linux-x64-musl": "x86_64-unknown-linux-musl",
  "linux-arm64": "aarch64-unknown-linux-musl",
  "linux-arm64-musl": "aarch64-unknown-linux-musl",
  "darwin-x64": "x86_64-apple-darwin",
  "darwin-arm64": "aarch64-apple-darwin",
};

function packageDir(name: string, cli: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (error) {
    throw new Error(
      `${cli}: the package ${name} is not installed. It is an optional dependency of a devDependency, ` +
        "recorded in package-lock.json: run `npm ci` (or `npm install`) on this platform.",
      { cause: error },
    );
  }
}

function runnable(file: string, cli: string): string {
  try {
    accessSync(file, constants.X_OK);
  } catch (error) {
    throw new Error(`${cli}: ${file} is missing or not executable; reinstall with \`npm ci\``, { cause: error });
  }
  return file;
}

/** The absolute path of Claude Code's native `claude` binary. */
export function claudeExecutable(): string {
  const key = platformKey();
  const name = `@anthropic-ai/claude-code-${key}`;
  return runnable(path.join(packageDir(name, "Claude Code"), "claude"), "Claude Code");
}

/** The absolute path of Codex's native `codex` binary. */
export function codexExecutable(): string {
  const key = platformKey();
  const target = codexTargets[key];
  if (!target) throw new Error(`Codex: no native binary is published for ${key}`);
  // npm installs the aliased platform package under this name (`npm:@openai/codex@<v>-linux-x64`).
  const name = `@openai/codex-${key.replace(/-musl$/, "")}`;
  return runnable(path.join(packageDir(name, "Codex"), "vendor", target, "bin", "codex"), "Codex");
}
