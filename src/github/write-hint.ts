// What a GitHub write is for, told to the per-installation write scheduler through Octokit's
// request options: acknowledgements go first, a PR and its bookkeeping next, progress last, and
// a queued progress update that a newer one to the same place supersedes is never sent.
//
//   octokit.rest.issues.updateComment({ ...params, ...writeHint("progress", `comment:${id}`) })

export type WritePriority = "acknowledge" | "publish" | "progress";

export interface WriteHint {
  priority: WritePriority;
  /**
   * Progress only: the place the write updates (`comment:<id>`, `check-run:<id>`). A queued write
   * with the same key is superseded by a newer one: latest state wins, and the superseded
   * caller's promise settles with the newer write's outcome.
   */
  coalesceKey?: string;
}

/** The request option that carries the hint; spread into an Octokit call's parameters. */
export function writeHint(priority: WritePriority, coalesceKey?: string): { request: { tasksWrite: WriteHint } } {
  return { request: { tasksWrite: coalesceKey === undefined ? { priority } : { priority, coalesceKey } } };
}

/** The hint of a request's options, if it carries one. */
export function hintOf(options: { request?: unknown }): WriteHint | undefined {
  const hint = (options.request as { tasksWrite?: WriteHint } | undefined)?.tasksWrite;
  return hint && (hint.priority === "acknowledge" || hint.priority === "publish" || hint.priority === "progress") ? hint : undefined;
}
