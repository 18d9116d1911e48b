// What an agent's change may touch before Tasks pushes it. A task branch lives in the base
// repository, so its CI runs the agent's code with the repository's secrets: everything under
// `.github/` (workflows, actions, CODEOWNERS, dependabot, this app's own tasks.yml) is protected
// by default, and a repository protects more with `protected_paths` globs in .github/tasks.yml.
import { AppError } from "../lib/errors.ts";
import { unquoteGitPath } from "./git-path.ts";
import { normaliseRepoPath, pathGlobCovers } from "./path-glob.ts";
import { parseUnifiedDiff } from "./unified-diff.ts";

export type PolicyViolation = {
  kind: "protected-path";
  /** Every offending path, in the order given. */
  paths: string[];
  message: string;
};

/** One line of `git diff --name-status -M` (or one record of its `-z` form). */
export interface NameStatusEntry {
  /** The status letter: A, C, D, M, R, T, U or X (a rename's or copy's similarity score is dropped). */
  status: string;
  path: string;
  /** The source of a rename or copy. */
  oldPath?: string;
}

/** Protected whatever tasks.yml says: `.github` itself too (replaced by a symlink it could point anywhere). */
export const alwaysProtected = ".github";

export function checkDiffPolicy(changedPaths: string[], protectedPaths: readonly string[] = []): PolicyViolation[] {
  const offences = new Map<string, string>();
  for (const path of changedPaths) {
    if (offences.has(path)) continue;
    const reason = protectionOf(path, protectedPaths);
    if (reason !== null) offences.set(path, reason);
  }
  if (offences.size === 0) return [];
  const described = [...offences].map(([path, reason]) => `\`${path.replace(/`/g, "'")}\` (${reason})`);
  return [
    {
      kind: "protected-path",
      paths: [...offences.keys()],
      message:
        "publishing refused: the change touches protected paths, which need a human: " +
        `${described.join(", ")}. A task branch's CI runs its code with the repository's secrets.`,
    },
  ];
}

function protectionOf(path: string, protectedPaths: readonly string[]): string | null {
  if (pathGlobCovers(alwaysProtected, path)) {
    return normaliseRepoPath(path).startsWith(".github/workflows") ? "a CI workflow under `.github/`, protected by default" : "under `.github/`, protected by default";
  }
  const pattern = protectedPaths.find((glob) => pathGlobCovers(glob, path));
  return pattern === undefined ? null : `matches \`${pattern.replace(/`/g, "'")}\` in protected_paths of .github/tasks.yml`;
}

/** Both sides of a rename count as changed (moving a workflow out deletes it); a copy's source does not. */
export function pathsOfNameStatus(entries: NameStatusEntry[]): string[] {
  return entries.flatMap((entry) => (entry.oldPath !== undefined && entry.status !== "C" ? [entry.oldPath, entry.path] : [entry.path]));
}

export function parseNameStatus(text: string): NameStatusEntry[] {
  return text.includes("\0") ? parseNulSeparated(text) : parseLines(text);
}

const movedStatus = /^[RC]/;

function parseLines(text: string): NameStatusEntry[] {
  return text
    .split("\n")
    .map((line) => line.replace(/\r$/, ""))
    .filter((line) => line !== "")
    .map((line) => {
      const [statusField = "", ...paths] = line.split("\t");
      return toEntry(statusField, paths.map(unquoteGitPath), line);
    });
}

/** `-z`: status, then one path (two for R and C), each NUL-terminated and never quoted. */
function parseNulSeparated(text: string): NameStatusEntry[] {
  const fields = text.split("\0");
  const entries: NameStatusEntry[] = [];
  for (let index = 0; index < fields.length; ) {
    const statusField = fields[index]!.replace(/^\n/, "");
    if (statusField === "") {
      index += 1;
      continue;
    }
    const pathCount = movedStatus.test(statusField) ? 2 : 1;
    entries.push(toEntry(statusField, fields.slice(index + 1, index + 1 + pathCount), statusField));
    index += 1 + pathCount;
  }
  return entries;
}

function toEntry(statusField: string, paths: string[], source: string): NameStatusEntry {
  const status = statusField.charAt(0);
  const expected = movedStatus.test(statusField) ? 2 : 1;
  if (!/^[ACDMRTUX]\d*$/.test(statusField) || paths.length !== expected || paths.some((path) => path === "")) {
    throw new AppError("invalid", "name_status_unreadable", `unreadable git --name-status entry: ${JSON.stringify(source)}`);
  }
  return expected === 2 ? { status, oldPath: paths[0]!, path: paths[1]! } : { status, path: paths[0]! };
}

/** Every path a unified diff touches: old and new side of a rename, the new side of a copy. */
export function listChangedPaths(diffText: string): string[] {
  const paths = parseUnifiedDiff(diffText).flatMap((file) => [
    ...(file.oldPath !== null && file.status !== "copied" ? [file.oldPath] : []),
    ...(file.newPath !== null ? [file.newPath] : []),
  ]);
  return [...new Set(paths)];
}
