import { describe, expect, it } from "vitest";
import { pathGlobCovers } from "../../src/publish/path-glob.ts";
import { parseRepoConfig } from "../../src/stage-work/repo-config.ts";

describe("pathGlobCovers", () => {
  it.each([
    ["infra", "infra/main.tf"],
    ["infra/", "infra/modules/vpc/main.tf"],
    ["infra/**", "infra/main.tf"],
    ["**/secrets.yml", "config/prod/secrets.yml"],
    ["**/secrets.yml", "secrets.yml"],
    ["*.tf", "main.tf"],
    ["deploy/*.sh", "deploy/release.sh"],
    ["deploy/*.sh", "deploy/release.sh/inner"],
    ["scripts/?un.sh", "scripts/run.sh"],
    ["Makefile", "makefile"],
    ["/docker/", "./docker//Dockerfile"],
    ["a/**/b", "a/x/y/b/c"],
  ])("%s covers %s", (pattern, path) => {
    expect(pathGlobCovers(pattern, path)).toBe(true);
  });

  it.each([
    ["infra", "infrastructure/main.tf"],
    ["*.tf", "modules/main.tf"],
    ["deploy/*.sh", "deploy/nested/release.sh"],
    ["scripts/?un.sh", "scripts/rerun.sh"],
    ["a/**/b", "a/x/c"],
    [".github", "sub/.github/workflows/ci.yml"],
  ])("%s does not cover %s", (pattern, path) => {
    expect(pathGlobCovers(pattern, path)).toBe(false);
  });

  it("judges long hostile paths without backtracking (work grows with length × length at most)", () => {
    const path = `${"a/".repeat(2000)}${"a".repeat(4000)}`;
    const started = process.hrtime.bigint();
    expect(pathGlobCovers("**/*a*a*a*a*a*a*a*b", path)).toBe(false);
    // A generous ceiling, not a timing assertion: exponential backtracking would take minutes.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(20);
  });
});

describe("protected_paths in .github/tasks.yml", () => {
  it("reads a list of globs", () => {
    expect(parseRepoConfig("protected_paths:\n  - infra/**\n  - '*.tf'\n").protected_paths).toEqual(["infra/**", "*.tf"]);
  });

  it.each([
    ["protected_paths: infra", "protected_paths"],
    ["protected_paths:\n  - ''", "protected_paths.0"],
    ["protected_paths:\n  - ../outside", "protected_paths.0 a glob inside the repository"],
  ])("refuses %j, naming the field", (text, field) => {
    expect(() => parseRepoConfig(text)).toThrow(new RegExp(`\\.github/tasks\\.yml: ${field.replace(/\./g, "\\.")}`));
  });
});
