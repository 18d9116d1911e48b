// What the admin API answers about tasks: the server's own view types, shared as types only
// (nothing of the server is loaded into the CLI).
import type { ModelUsageView, RunView, TaskDetailView } from "../tasks/task-view.ts";

export type { TaskView, RunView, EventView, ModelUsageView } from "../tasks/task-view.ts";
export type { TaskPage } from "../tasks/task-queries.ts";

/** A run as the task detail shows it; older servers send no usage per model. */
export type RunDetail = RunView & { models?: ModelUsageView[] };
export type TaskDetail = Omit<TaskDetailView, "runs"> & { runs: RunDetail[] };
