// Reads `git diff` output (git's default a/ and b/ prefixes) into the files it touches. Hunk line counts decide where a hunk ends, so an added line that reads
// "++ b/x" or a removed "-- a/x" is content, never mistaken for a file header.
import { AppError } from "../lib/errors.ts";
import { readPathToken, unquoteGitPath } from "./git-path.ts";

export type DiffFileStatus = "added" | "deleted" | "modified" | "renamed" | "copied";

export interface DiffFile {
  /** null for a new file. */
  oldPath: string | null;
  /** null for a deleted file. */
  newPath: string | null;
  status: DiffFileStatus;
}

interface FileDraft {
  oldPath: string | null;
  newPath: string | null;
  movedAs: "renamed" | "copied" | null;
  hunks: number;
}

interface HunkCursor {
  oldLeft: number;
  newLeft: number;
}

export function parseUnifiedDiff(diffText: string): DiffFile[] {
  const drafts: FileDraft[] = [];
  let file: FileDraft | undefined;
  let hunk: HunkCursor | undefined;
  for (const rawLine of diffText.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (file && hunk && (hunk.oldLeft > 0 || hunk.newLeft > 0) && readHunkLine(line, hunk)) continue;
    hunk = undefined;
    if (line.startsWith("diff --cc ") || line.startsWith("diff --combined ")) {
      throw new AppError("invalid", "diff_unreadable", "combined (merge) diffs are not supported");
    }
    if (line.startsWith("diff --git ")) {
      file = startFile(drafts, parseGitHeader(line.slice("diff --git ".length)));
    } else if (line.startsWith("@@ ")) {
      if (!file) throw new AppError("invalid", "diff_unreadable", `hunk before any file header: ${line}`);
      hunk = parseHunkHeader(line);
      file.hunks += 1;
    } else {
      // A `---` line with no `diff --git` before it (or after hunks) starts a plain unified diff's file.
      if (line.startsWith("--- ") && (!file || file.hunks > 0)) file = startFile(drafts, { oldPath: null, newPath: null });
      if (file) applyHeaderLine(file, line);
    }
  }
  return drafts.map(toDiffFile);
}

function startFile(drafts: FileDraft[], paths: { oldPath: string | null; newPath: string | null }): FileDraft {
  const draft: FileDraft = { ...paths, movedAs: null, hunks: 0 };
  drafts.push(draft);
  return draft;
}

function readHunkLine(line: string, hunk: HunkCursor): boolean {
  const marker = line.charAt(0);
  if (marker === "+") {
    hunk.newLeft -= 1;
  } else if (marker === "-") {
    hunk.oldLeft -= 1;
  } else if (marker === " " || line === "") {
    // Some tools strip the lone space of an empty context line.
    hunk.oldLeft -= 1;
    hunk.newLeft -= 1;
  } else if (marker !== "\\") {
    return false; // "\ No newline at end of file" is skipped; anything else ends the hunk
  }
  return true;
}

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function parseHunkHeader(line: string): HunkCursor {
  const match = hunkHeader.exec(line);
  if (!match) throw new AppError("invalid", "diff_unreadable", `unreadable hunk header: ${line}`);
  return { oldLeft: Number(match[2] ?? 1), newLeft: Number(match[4] ?? 1) };
}

/** `a/x b/y`, either side possibly quoted; unquoted paths with spaces are split where both halves agree. */
function parseGitHeader(rest: string): { oldPath: string; newPath: string } {
  let oldToken: string;
  let newToken: string;
  if (rest.startsWith('"')) {
    const first = readPathToken(rest);
    oldToken = first.path;
    newToken = readPathToken(first.rest.replace(/^ /, "")).path;
  } else if (rest.includes('"')) {
    // An unquoted path never holds a quote (git would have quoted it), so the first quote opens the second.
    const quote = rest.indexOf('"');
    oldToken = rest.slice(0, quote).replace(/ $/, "");
    newToken = unquoteGitPath(rest.slice(quote));
  } else {
    [oldToken, newToken] = splitUnquotedHeader(rest);
  }
  return { oldPath: withoutPrefix(oldToken, "a/"), newPath: withoutPrefix(newToken, "b/") };
}

function splitUnquotedHeader(rest: string): [string, string] {
  const middle = (rest.length - 1) / 2;
  if (Number.isInteger(middle) && rest[middle] === " " && rest.slice(2, middle) === rest.slice(middle + 3)) {
    return [rest.slice(0, middle), rest.slice(middle + 1)];
  }
  // A rename with spaces: the rename from/to lines that follow name both sides exactly.
  const split = rest.indexOf(" b/");
  if (split === -1) throw new AppError("invalid", "diff_unreadable", `unreadable diff header: diff --git ${rest}`);
  return [rest.slice(0, split), rest.slice(split + 1)];
}

function applyHeaderLine(file: FileDraft, line: string): void {
  const [keyword, value] = splitHeader(line);
  switch (keyword) {
    case "--- ":
      file.oldPath = value === "/dev/null" ? null : withoutPrefix(readPathToken(value, "\t").path, "a/");
      break;
    case "+++ ":
      file.newPath = value === "/dev/null" ? null : withoutPrefix(readPathToken(value, "\t").path, "b/");
      break;
    case "rename from ":
    case "copy from ":
      file.oldPath = unquoteGitPath(value);
      file.movedAs = keyword === "rename from " ? "renamed" : "copied";
      break;
    case "rename to ":
    case "copy to ":
      file.newPath = unquoteGitPath(value);
      break;
    case "new file mode ":
      file.oldPath = null;
      break;
    case "deleted file mode ":
      file.newPath = null;
      break;
  }
}

const headerKeywords = ["--- ", "+++ ", "rename from ", "rename to ", "copy from ", "copy to ", "new file mode ", "deleted file mode "];

function splitHeader(line: string): [string | undefined, string] {
  const keyword = headerKeywords.find((candidate) => line.startsWith(candidate));
  return [keyword, keyword ? line.slice(keyword.length) : line];
}

function withoutPrefix(path: string, prefix: string): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

function toDiffFile(draft: FileDraft): DiffFile {
  const { oldPath, newPath } = draft;
  const status: DiffFileStatus =
    draft.movedAs ?? (oldPath === null ? "added" : newPath === null ? "deleted" : "modified");
  return { oldPath, newPath, status };
}
