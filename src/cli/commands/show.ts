// tasks show
import { takePositionals } from "../args.ts";
import { segment, type Command } from "../command.ts";
import { columns, fields, indent, oneLine, printable, table } from "../output.ts";
import type { EventView, RunDetail, RunView, TaskDetail } from "../task-types.ts";

// The server returns up to 100 events; a person wants the latest few.
const eventsShown = 10;

function overview(task: TaskDetail): string {
  return fields([
    ["status", task.status],
    ["stage", task.stage ? `${task.stage.name} (${task.stage.key})` : null],
    ["repository", task.repository],
    ["origin", `${task.origin_product} via ${task.source}`],
    ["issue", task.issue_number === null ? null : `#${task.issue_number}`],
    ["branch", task.branch],
    ["pull request", task.pr_url],
    ["created by", task.created_by],
    ["created", task.created_at],
    ["updated", task.updated_at],
    ["id", task.id],
    ["workflow", task.workflow_id],
  ]);
}

function runsTable(runs: readonly RunDetail[]): string {
  if (runs.length === 0) return "  none";
  const rows = runs.map((run) => [`#${run.attempt}`, run.status, run.engine ?? "-", run.started_at ?? "-", run.finished_at ?? "-", modelTokens(run), runCost(run), run.error ?? ""]);
  return indent(table(["RUN", "STATUS", "ENGINE", "STARTED", "FINISHED", "TOKENS", "COST", "ERROR"], rows));
}

/** The run's cost at list prices; a model without a price makes it "+ unknown" (the task page names it). */
function runCost(run: RunDetail): string {
  if (!run.models || run.models.length === 0) return "-";
  const usd = run.models.reduce((sum, model) => sum + (model.cost_usd ?? 0), 0);
  const known = usd > 0 && usd < 0.005 ? "<$0.01" : `$${usd.toFixed(2)}`;
  return run.models.some((model) => model.cost_usd === null) ? `${known} + unknown` : known;
}

/** The model tokens a run used through the gateway; older servers do not report them. */
function modelTokens(run: RunView): string {
  if (run.input_tokens === undefined || run.input_tokens + run.output_tokens === 0) return "-";
  return `${run.input_tokens} in / ${run.output_tokens} out`;
}

function eventLines(events: readonly EventView[]): string {
  if (events.length === 0) return "  none";
  return indent(columns(events.slice(-eventsShown).map((event) => [event.created_at, event.type, event.message ?? ""])));
}

export function renderTask(task: TaskDetail): string {
  const shown = Math.min(task.events.length, eventsShown);
  return [
    `${task.slug}  ${oneLine(task.title)}`,
    "",
    overview(task),
    "",
    "Description:",
    indent(printable(task.description)),
    "",
    "Runs:",
    runsTable(task.runs),
    "",
    `Recent events (${shown} of ${task.events.length}):`,
    eventLines(task.events),
  ].join("\n");
}

export const show: Command = {
  words: ["show"],
  usage: "show <slug|id>",
  summary: "Show a task with its runs and recent events",
  options: [],
  prepare(args) {
    const [ref] = takePositionals(args, ["slug|id"]);
    return async (client) => {
      const task = await client.request<TaskDetail>("GET", `/api/admin/tasks/${segment(ref)}`);
      return { json: task, human: renderTask(task) };
    };
  },
};
