// A patch from the sandbox is untrusted: it must not reach into `.git/` (hooks, config), where
// it would run code or redirect pushes in the control plane. Checked twice: on the patch text,
// and on the paths git itself reads from it (which resolves quoting and octal escapes).
import { AppError } from "../lib/errors.ts";

const headerLine = /^(?:diff --git |--- |\+\+\+ |rename from |rename to |copy from |copy to )(.*)$/;

export function assertPatchStaysOutOfGitDir(patchText: string): void {
  const paths: string[] = [];
  for (const line of patchText.split("\n")) {
    const match = headerLine.exec(line);
    if (match) paths.push(...match[1]!.split(/\s+/).map(unquote).map(withoutSidePrefix));
  }
  assertPathsOutsideGitDir(paths);
}

/** Paths from `git apply --numstat -z`: `added\tdeleted\tpath\0`, or `added\tdeleted\t\0from\0to\0` for renames. */
export function pathsTouchedByPatch(numstat: string): string[] {
  const fields = numstat.split("\0");
  const paths: string[] = [];
  for (let index = 0; index < fields.length; index++) {
    const field = fields[index]!;
    if (field === "") continue;
    const path = field.split("\t")[2];
    if (path === undefined) throw new AppError("unprocessable", "unreadable_patch", "could not read the files the patch touches");
    if (path !== "") {
      paths.push(path);
    } else {
      paths.push(fields[index + 1] ?? "", fields[index + 2] ?? "");
      index += 2;
    }
  }
  assertPathsOutsideGitDir(paths);
  return [...new Set(paths)];
}

export function assertPathsOutsideGitDir(paths: string[]): void {
  const bad = paths.find(touchesGitDir);
  if (bad !== undefined) {
    throw new AppError("forbidden", "patch_touches_git_dir", `the patch touches ${JSON.stringify(bad)}; changes under .git/ are refused`);
  }
}

function touchesGitDir(path: string): boolean {
  // Case and trailing dots/spaces do not matter to case-insensitive or Windows filesystems.
  return path.split(/[/\\]/).some((part) => withoutTrailingDotsAndSpaces(part.toLowerCase()) === ".git");
}

// A loop, not /[. ]+$/: V8 retries that regex from every dot of a long run that ends in another
// character, so a crafted path of 100k dots costs seconds of the web process's only thread.
function withoutTrailingDotsAndSpaces(part: string): string {
  let end = part.length;
  while (end > 0 && (part[end - 1] === "." || part[end - 1] === " ")) end--;
  return part.slice(0, end);
}

function unquote(token: string): string {
  const inner = token.replace(/^"|"$/g, "");
  return inner.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function withoutSidePrefix(path: string): string {
  return path.replace(/^[ab]\//, "");
}
