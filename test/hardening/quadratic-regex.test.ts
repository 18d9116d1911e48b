// Patch and diff text comes from the sandbox, so its path parsers must stay linear on crafted
// lines: a quadratic regex turns one long line into seconds of blocked event loop. Each shape runs
// in its own `node` process so a regression fails by deadline instead of hanging the test run
// (synchronous regex work cannot be interrupted in-process). The ceiling is deliberately loose:
// the linear code needs milliseconds, the quadratic one minutes, so only super-linear work trips it.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const size = 400_000;
const perCallCeilingMs = 5_000;
const processDeadlineMs = 20_000;

const patchPaths = fileURLToPath(new URL("../../src/git/patch-paths.ts", import.meta.url));
const unifiedDiff = fileURLToPath(new URL("../../src/publish/unified-diff.ts", import.meta.url));

const dots = `${".".repeat(size)}x`;
// Spaces never survive the patch scan's whitespace split unquoted, but octal escapes become them.
const quotedSpaces = `"b/${"\\040".repeat(size / 4)}x"`;
const quotedDotsAndSpaces = `"b/${"\\056\\040".repeat(size / 8)}x"`;

/** A patch whose hunk adds `line`; with the leading `+` it reads as a header to a line scan. */
function patchAdding(line: string): string {
  return ["diff --git a/f b/f", "--- a/f", "+++ b/f", "@@ -1,0 +1,1 @@", `+${line}`, ""].join("\n");
}

interface Shape {
  name: string;
  module: string;
  exported: string;
  input: string;
  /** The AppError code the call must end with, or "ok". */
  outcome: string;
}

const shapes: Shape[] = [
  { name: "hunk line reading `+++ b/<dots>x`", module: patchPaths, exported: "assertPatchStaysOutOfGitDir", input: patchAdding(`++ b/${dots}`), outcome: "ok" },
  { name: "`+++` header with quoted spaces", module: patchPaths, exported: "assertPatchStaysOutOfGitDir", input: patchAdding(`++ ${quotedSpaces}`), outcome: "ok" },
  { name: "`+++` header with quoted dots and spaces", module: patchPaths, exported: "assertPatchStaysOutOfGitDir", input: patchAdding(`++ ${quotedDotsAndSpaces}`), outcome: "ok" },
  { name: "`+++` header with backslash-separated dots", module: patchPaths, exported: "assertPatchStaysOutOfGitDir", input: patchAdding(`++ b/a\\${dots}`), outcome: "ok" },
  { name: "`diff --git` and rename headers of dots", module: patchPaths, exported: "assertPatchStaysOutOfGitDir", input: `diff --git a/${dots} b/${dots}\nrename from ${dots}\nrename to ${dots}\n`, outcome: "ok" },
  { name: "`.GiT` with a long dot/space tail is still refused", module: patchPaths, exported: "assertPatchStaysOutOfGitDir", input: patchAdding(`++ "b/.GiT${"\\056\\040".repeat(size / 8)}/hooks/x"`), outcome: "patch_touches_git_dir" },
  { name: "numstat path of dots", module: patchPaths, exported: "pathsTouchedByPatch", input: `1\t0\t${dots}\0`, outcome: "ok" },
  { name: "numstat path of spaces", module: patchPaths, exported: "pathsTouchedByPatch", input: `1\t0\t${" ".repeat(size)}x\0`, outcome: "ok" },
  { name: "numstat rename of dots and spaces", module: patchPaths, exported: "pathsTouchedByPatch", input: `1\t0\t\0${dots}\0${". ".repeat(size / 2)}x\0`, outcome: "ok" },
  { name: "numstat `.git` with a long dot/space tail is still refused", module: patchPaths, exported: "pathsTouchedByPatch", input: `1\t0\t.git${". ".repeat(size / 2)}/config\0`, outcome: "patch_touches_git_dir" },
  {
    name: "unified diff headers and hunk lines of dots",
    module: unifiedDiff,
    exported: "parseUnifiedDiff",
    input: [`diff --git a/${dots} b/${dots}`, `--- a/${dots}`, `+++ b/${dots}`, "@@ -1,0 +1,2 @@", `++ b/${dots}`, `+${" ".repeat(size)}x`, ""].join("\n"),
    outcome: "ok",
  },
  {
    name: "unified diff quoted headers of escaped dots and spaces",
    module: unifiedDiff,
    exported: "parseUnifiedDiff",
    input: [`diff --git ${quotedDotsAndSpaces.replace('"b/', '"a/')} ${quotedDotsAndSpaces}`, `--- ${quotedDotsAndSpaces.replace('"b/', '"a/')}`, `+++ ${quotedDotsAndSpaces}`, ""].join("\n"),
    outcome: "ok",
  },
];

// Reads the input from stdin (too long for argv), makes one call, prints its duration and outcome.
const child = `
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [modulePath, exported] = process.argv.slice(1);
const input = readFileSync(0, "utf8");
const parser = (await import(pathToFileURL(modulePath).href))[exported];
const started = performance.now();
let outcome = "ok";
try { parser(input); } catch (error) { outcome = error?.code ?? String(error); }
console.log(JSON.stringify({ ms: performance.now() - started, outcome }));
`;

function runInChild(shape: Shape): Promise<{ ms: number; outcome: string }> {
  return new Promise((resolve, reject) => {
    const proc = execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", child, shape.module, shape.exported],
      { timeout: processDeadlineMs, killSignal: "SIGKILL", maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const reason = error.killed ? `still running after ${processDeadlineMs} ms: super-linear work` : stderr;
          reject(new Error(`${shape.name}: ${reason}`));
        } else {
          resolve(JSON.parse(stdout) as { ms: number; outcome: string });
        }
      },
    );
    proc.stdin!.end(shape.input);
  });
}

describe("patch path parsers on adversarial long lines", () => {
  it.each(shapes)("$name", async (shape) => {
    expect(shape.input.length).toBeGreaterThanOrEqual(size);
    const result = await runInChild(shape);
    expect(result.outcome).toBe(shape.outcome);
    expect(result.ms).toBeLessThan(perCallCeilingMs);
  });
});
