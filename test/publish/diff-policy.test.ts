import { describe, expect, it } from "vitest";
import { checkDiffPolicy, listChangedPaths, parseNameStatus, pathsOfNameStatus } from "../../src/publish/diff-policy.ts";

/** One violation naming exactly these paths, each in the message. */
const violation = (...paths: string[]) => [
  expect.objectContaining({ kind: "protected-path", paths, message: expect.stringMatching(new RegExp(paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*"))) }),
];

/** Shapes copied from `git diff -M` (git 2.39) output. */
const diffs = {
  add: [
    "diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml",
    "new file mode 100644",
    "index 0000000..b680253",
    "--- /dev/null",
    "+++ b/.github/workflows/ci.yml",
    "@@ -0,0 +1 @@",
    "+on: push",
  ],
  modify: [
    "diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml",
    "index 587be6b..aee5fdc 100644",
    "--- a/.github/workflows/ci.yml",
    "+++ b/.github/workflows/ci.yml",
    "@@ -1 +1,2 @@",
    " on: push",
    "+permissions: write-all",
  ],
  delete: [
    "diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml",
    "deleted file mode 100644",
    "index 587be6b..0000000",
    "--- a/.github/workflows/ci.yml",
    "+++ /dev/null",
    "@@ -1 +0,0 @@",
    "-on: push",
  ],
  renameIn: [
    "diff --git a/docs/ci example.yml b/.github/workflows/ci.yml",
    "similarity index 100%",
    "rename from docs/ci example.yml",
    "rename to .github/workflows/ci.yml",
  ],
  renameOut: [
    "diff --git a/.github/workflows/ci.yml b/ci.yml",
    "similarity index 100%",
    "rename from .github/workflows/ci.yml",
    "rename to ci.yml",
  ],
};

const policyOf = (lines: string[]) => checkDiffPolicy(listChangedPaths(lines.join("\n") + "\n"));

describe("checkDiffPolicy", () => {
  it.each([
    ["adding", diffs.add, [".github/workflows/ci.yml"]],
    ["modifying", diffs.modify, [".github/workflows/ci.yml"]],
    ["deleting", diffs.delete, [".github/workflows/ci.yml"]],
    ["renaming into", diffs.renameIn, [".github/workflows/ci.yml"]],
    ["renaming out of", diffs.renameOut, [".github/workflows/ci.yml"]],
  ])("rejects %s .github/workflows, saying why", (_name, lines, paths) => {
    expect(policyOf(lines)).toEqual(violation(...paths));
  });

  it("names every offending path once, in one violation", () => {
    expect(checkDiffPolicy(["src/a.ts", ".github/workflows/a.yml", ".github/workflows/b.yml", ".github/workflows/a.yml"])).toEqual(
      violation(".github/workflows/a.yml", ".github/workflows/b.yml"),
    );
  });

  it.each([
    ".github/workflows",
    ".github/workflows/",
    ".github",
    ".GitHub/workflows/ci.yml",
    ".github/Workflows/ci.yml",
    "./.github/workflows/ci.yml",
    ".github//workflows/deploy.yaml",
    ".github/workflows/nested/dir/x.yml",
  ])("rejects %s", (path) => {
    expect(checkDiffPolicy([path])).toEqual(violation(path));
  });

  it.each([".github/other.yml", ".github/tasks.yml", ".github/workflows-old/ci.yml", ".github/CODEOWNERS", ".github/dependabot.yml", ".github/actions/setup/action.yml", ".GITHUB/x"])(
    "protects %s: everything under .github/ by default",
    (path) => {
      expect(checkDiffPolicy([path])).toEqual(violation(path));
    },
  );

  it.each(["docs/workflows/x", "sub/.github/workflows/ci.yml", "src/index.ts", ".githubx/y", "github/workflows/ci.yml"])("allows %s", (path) => {
    expect(checkDiffPolicy([path])).toEqual([]);
  });

  it("allows a change set with no paths", () => {
    expect(checkDiffPolicy([])).toEqual([]);
  });
});

describe("listChangedPaths", () => {
  it("lists both sides of a rename and handles unquoted spaces", () => {
    const diff = [
      "diff --git a/another space.md b/another space.md",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/another space.md\t",
      "@@ -0,0 +1 @@",
      "+z",
      "diff --git a/with space.txt b/new name.txt",
      "similarity index 100%",
      "rename from with space.txt",
      "rename to new name.txt",
    ].join("\n");

    expect(listChangedPaths(diff)).toEqual(["another space.md", "with space.txt", "new name.txt"]);
  });

  it("unquotes C-style quoted paths with escapes and UTF-8 octal bytes", () => {
    const diff = [
      'diff --git "a/tab\\tq\\"\\303\\251.txt" "b/tab\\tq\\"\\303\\251.txt"',
      "index 587be6b..aee5fdc 100644",
      '--- "a/tab\\tq\\"\\303\\251.txt"',
      '+++ "b/tab\\tq\\"\\303\\251.txt"',
      "@@ -1 +1,2 @@",
      " x",
      "+more",
      'diff --git "a/.github/workflows/t\\303\\251st.yml" "b/.github/workflows/t\\303\\251st.yml"',
      "deleted file mode 100644",
    ].join("\n");

    const paths = listChangedPaths(diff);

    expect(paths).toEqual(['tab\tq"é.txt', ".github/workflows/tést.yml"]);
    expect(checkDiffPolicy(paths)).toEqual(violation(".github/workflows/tést.yml"));
  });

  it("takes a quoted new side after an unquoted old side", () => {
    const diff = ['diff --git a/plain.txt "b/.github/workflows/\\342\\234\\223.yml"', "similarity index 90%", "rename from plain.txt", 'rename to ".github/workflows/\\342\\234\\223.yml"'].join("\n");

    expect(listChangedPaths(diff)).toEqual(["plain.txt", ".github/workflows/✓.yml"]);
  });

  it("does not mistake hunk content for file headers", () => {
    const diff = [
      "diff --git a/notes.md b/notes.md",
      "--- a/notes.md",
      "+++ b/notes.md",
      "@@ -1,2 +1,2 @@",
      "--- a/.github/workflows/ci.yml",
      "+++ b/.github/workflows/ci.yml",
      " end",
    ].join("\n");

    expect(listChangedPaths(diff)).toEqual(["notes.md"]);
  });

  it("counts a copy's new side only", () => {
    const diff = ["diff --git a/.github/workflows/ci.yml b/ci-copy.yml", "similarity index 100%", "copy from .github/workflows/ci.yml", "copy to ci-copy.yml"].join("\n");

    expect(listChangedPaths(diff)).toEqual(["ci-copy.yml"]);
  });

  it("refuses a combined (merge) diff rather than guess", () => {
    expect(() => listChangedPaths("diff --cc src/a.ts\n")).toThrow(/combined/);
  });
});

describe("parseNameStatus", () => {
  const output = [
    "A\tanother space.md",
    "R100\t.github/workflows/ci.yml\tci.yml",
    "R087\tdocs/x.yml\t.github/workflows/x.yml",
    "C75\t.github/workflows/a.yml\tcopy.yml",
    'M\t"tab\\tq\\"\\303\\251.txt"',
    "D\t.github/workflows/old.yml",
    "",
  ].join("\n");

  it("reads statuses, renames and quoted paths", () => {
    expect(parseNameStatus(output)).toEqual([
      { status: "A", path: "another space.md" },
      { status: "R", oldPath: ".github/workflows/ci.yml", path: "ci.yml" },
      { status: "R", oldPath: "docs/x.yml", path: ".github/workflows/x.yml" },
      { status: "C", oldPath: ".github/workflows/a.yml", path: "copy.yml" },
      { status: "M", path: 'tab\tq"é.txt' },
      { status: "D", path: ".github/workflows/old.yml" },
    ]);
  });

  it("reads the -z form the same way", () => {
    const nul = ["A", "another space.md", "R100", ".github/workflows/ci.yml", "ci.yml", "M", 'tab\tq"é.txt', ""].join("\0");

    expect(parseNameStatus(nul)).toEqual([
      { status: "A", path: "another space.md" },
      { status: "R", oldPath: ".github/workflows/ci.yml", path: "ci.yml" },
      { status: "M", path: 'tab\tq"é.txt' },
    ]);
  });

  it("feeds the policy: renames in and out and deletions are caught, copies out are not", () => {
    expect(checkDiffPolicy(pathsOfNameStatus(parseNameStatus(output)))).toEqual(
      violation(".github/workflows/ci.yml", ".github/workflows/x.yml", ".github/workflows/old.yml"),
    );
  });

  it.each(["R100\tonly-one-path", "Q\tfile", "M", 'M\t"unterminated\\']) ("throws on an unreadable entry %j", (line) => {
    expect(() => parseNameStatus(line)).toThrow(/unreadable|unterminated/);
  });
});
