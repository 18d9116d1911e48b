// Globs for protected paths (`.github/tasks.yml` protected_paths): `*` and `?` within one path
// segment, `**` for any number of segments. A pattern covers what it names and everything
// below it, so `infra` protects `infra/main.tf`. Matching ignores case (stricter than git on
// Linux, as checkouts on case-insensitive disks see one file), and it is dynamic programming,
// never a regular expression: the paths come from the agent and must not cost more than
// length × length to judge.

export function normaliseRepoPath(path: string): string {
  return path
    .replace(/\/{2,}/g, "/")
    .replace(/^(?:\.\/|\/)+/, "")
    .replace(/\/+$/, "")
    .toLowerCase();
}

/** True when `path`, or a directory it lies in, matches `pattern`. */
export function pathGlobCovers(pattern: string, path: string): boolean {
  const patternSegments = normaliseRepoPath(pattern).split("/");
  const pathSegments = normaliseRepoPath(path).split("/");
  // `**` at the end already reaches everything below; otherwise the pattern may stop at a parent.
  return matchSegments([...patternSegments, "**"], pathSegments);
}

function matchSegments(pattern: string[], path: string[]): boolean {
  // reachable[j]: the pattern's first i segments can consume exactly the path's first j.
  let reachable = new Array<boolean>(path.length + 1).fill(false);
  reachable[0] = true;
  for (const segment of pattern) {
    const next = new Array<boolean>(path.length + 1).fill(false);
    if (segment === "**") {
      let any = false;
      for (let j = 0; j <= path.length; j++) {
        any ||= reachable[j]!;
        next[j] = any;
      }
    } else {
      for (let j = 0; j < path.length; j++) if (reachable[j] && matchSegment(segment, path[j]!)) next[j + 1] = true;
    }
    reachable = next;
  }
  return reachable[path.length]!;
}

/** `*` and `?` within one segment: the two-pointer wildcard match, O(pattern × text) at worst. */
function matchSegment(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}
