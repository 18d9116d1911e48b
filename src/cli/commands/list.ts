// tasks list
import { takePositionals, type OptionValues } from "../args.ts";
import type { AdminClient } from "../admin-client.ts";
import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { table } from "../output.ts";
import type { TaskPage } from "../task-types.ts";

// The server's own bounds for one page.
const maxPageSize = 100;

export function parseLimit(value: string | undefined, max = maxPageSize): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > max) {
    throw usageError(`--limit must be a whole number from 1 to ${max} (got ${JSON.stringify(value)})`);
  }
  return limit;
}

function pageQuery(values: OptionValues, limit: number | undefined): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, value] of [["team", values.team], ["status", values.status], ["stage", values.stage]] as const) {
    if (value !== undefined) query.set(name, value);
  }
  if (limit !== undefined) query.set("limit", String(limit));
  return query;
}

/** With --all, follows next_cursor until the server says there is no more. */
async function fetchTasks(client: AdminClient, query: URLSearchParams, all: boolean): Promise<TaskPage> {
  const first = await client.request<TaskPage>("GET", `/api/admin/tasks?${query}`);
  if (!all) return first;
  const tasks = [...first.tasks];
  let cursor = first.next_cursor;
  while (cursor) {
    query.set("cursor", cursor);
    const page = await client.request<TaskPage>("GET", `/api/admin/tasks?${query}`);
    tasks.push(...page.tasks);
    cursor = page.next_cursor;
  }
  return { tasks, next_cursor: null };
}

function render(page: TaskPage): string {
  if (page.tasks.length === 0) return "No tasks.";
  return table(
    ["SLUG", "STATUS", "STAGE", "REPOSITORY", "TITLE"],
    page.tasks.map((task) => [task.slug, task.status, task.stage?.key ?? "-", task.repository, task.title]),
  );
}

export const list: Command = {
  words: ["list"],
  usage: "list [--team <team>] [--status <status>] [--stage <key>] [--limit <n>] [--all]",
  summary: "List tasks, newest first",
  options: [
    { name: "team", value: "<team>", description: "only this team's tasks (id or name)" },
    { name: "status", value: "<status>", description: "queued, running, waiting_approval, completed, failed or cancelled" },
    { name: "stage", value: "<key>", description: "only tasks in this stage, e.g. code" },
    { name: "limit", value: "<n>", description: `tasks per page, 1 to ${maxPageSize} (default: the server's, 20)` },
    { name: "all", description: "fetch every page, not just the first" },
  ],
  prepare(args) {
    takePositionals(args, []);
    const all = args.values.all ?? false;
    // With --all, the fewest requests; a --limit still sets the page size.
    const query = pageQuery(args.values, parseLimit(args.values.limit) ?? (all ? maxPageSize : undefined));
    return async (client) => {
      const page = await fetchTasks(client, query, all);
      const hint = page.next_cursor ? "more tasks exist: add --all to list them all" : undefined;
      return { json: page, human: render(page), ...(hint ? { hint } : {}) };
    };
  },
};
