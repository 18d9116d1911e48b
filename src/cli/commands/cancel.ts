// tasks cancel
import { takePositionals } from "../args.ts";
import { segment, type Command } from "../command.ts";
import type { TaskView } from "../task-types.ts";

export const cancel: Command = {
  words: ["cancel"],
  usage: "cancel <slug|id>",
  summary: "Cancel a task and stop its run",
  options: [],
  prepare(args) {
    const [ref] = takePositionals(args, ["slug|id"]);
    return async (client) => {
      const task = await client.request<TaskView>("POST", `/api/admin/tasks/${segment(ref)}/cancel`);
      return { json: task, human: `Cancelled ${task.slug} (${task.title}): status ${task.status}` };
    };
  },
};
