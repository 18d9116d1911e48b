// The diff's text is made in the sandbox, where the agent controls git's configuration (prefixes,
// quoting, renames), so the paths its parser reads may not be the ones `git apply` writes. The
// paths that count are git's own, read from the control plane's clone after applying: the policy
// judges those, and a diff text naming any other set is refused outright.
import { checkDiffPolicy, listChangedPaths, parseNameStatus, pathsOfNameStatus } from "./diff-policy.ts";

/** Why the change may not leave, or null: `protectedPaths` are tasks.yml's globs; `nameStatus` is `git diff --name-status -z --no-renames` of the applied patch. */
export function refuseCommittedPaths(patchText: string, nameStatus: string, protectedPaths: readonly string[] = []): string | null {
  const committed = [...new Set(pathsOfNameStatus(parseNameStatus(nameStatus)))];
  const violations = checkDiffPolicy(committed, protectedPaths);
  if (violations.length > 0) return violations.map((violation) => violation.message).join("; ");
  const read = new Set(listChangedPaths(patchText));
  const unread = committed.filter((path) => !read.has(path));
  const phantom = [...read].filter((path) => !committed.includes(path));
  if (unread.length === 0 && phantom.length === 0) return null;
  return (
    "publishing refused: the diff from the sandbox does not name the files git applies from it " +
    `(applied but not named: ${list(unread)}; named but not applied: ${list(phantom)})`
  );
}

function list(paths: string[]): string {
  return paths.length === 0 ? "none" : paths.map((path) => JSON.stringify(path)).join(", ");
}
