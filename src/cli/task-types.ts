// What the admin API answers about tasks: the server's own view types, shared as types only
// (nothing of the server is loaded into the CLI).
export type { TaskView, RunView, EventView, TaskDetailView as TaskDetail } from "../tasks/task-view.ts";
export type { TaskPage } from "../tasks/task-queries.ts";
