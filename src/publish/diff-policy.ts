// What an agent's change may touch before Tasks pushes it. The installation token has no
// `workflows` permission, so GitHub would refuse the push anyway; rejecting here says why.
import { AppError } from "../lib/errors.ts";
import { unquoteGitPath } from "./git-path.ts";
import { parseUnifiedDiff } from "./unified-diff.ts";

export type PolicyViolation = {
  kind: "workflow-change";
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

export function checkDiffPolicy(changedPaths: string[]): PolicyViolation[] {
  const workflowPaths = [...new Set(changedPaths.filter(isWorkflowPath))];
  if (workflowPaths.length === 0) return [];
  return [
    {
      kind: "workflow-change",
      paths: workflowPaths,
      message:
        "Tasks does not change CI workflows: the app has no `workflows` permission, and workflow changes " +
        `from an agent need a human. Changed: ${workflowPaths.join(", ")}`,
    },
  ];
}

/**
 * GitHub runs workflows from `.github/workflows/` at the root. Matching is stricter than GitHub:
 * case-insensitive, and `.github` itself counts (replaced by a symlink it could point anywhere).
 */
function isWorkflowPath(path: string): boolean {
  const normalized = path
    .replace(/\/{2,}/g, "/")
    .replace(/^(?:\.\/|\/)+/, "")
    .replace(/\/+$/, "")
    .toLowerCase();
  return normalized === ".github" || normalized === ".github/workflows" || normalized.startsWith(".github/workflows/");
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
