// tasks run: the pipeline in this process against a local git repository, no server and no
// GitHub. The result is a branch in that repository and the pull request text, printed.
import { requireOption, takePositionals } from "../args.ts";
import type { Command, Output } from "../command.ts";
import { usageError } from "../cli-error.ts";
import type { LocalRunResult } from "../local-run.ts";
import { fields } from "../output.ts";

function render(result: LocalRunResult, repoPath: string): Output {
  const json = {
    status: result.status,
    slug: result.slug,
    branch: result.branch,
    stage: result.stage,
    pr: result.pr,
    ...(result.note ? { note: result.note } : {}),
    ...(result.error ? { error: result.error } : {}),
  };
  const summary = fields([
    ["task", result.slug],
    ["status", result.status],
    ["repository", repoPath],
    ["branch", result.branch],
    ...(result.note ? [["note", result.note] as const] : []),
  ]);
  if (result.status !== "completed") return { json, human: summary, failed: result.error ?? `${result.slug} ended ${result.status}` };
  if (!result.pr) return { json, human: summary };
  const human = [summary, "", "Pull request text:", "", `# ${result.pr.title}`, "", result.pr.body, "", `Review it with: git -C ${repoPath} log -p ${result.branch ?? ""}`].join("\n");
  return { json, human };
}

export const run: Command = {
  words: ["run"],
  usage: "run --repo-path <dir> --title <title> [--description <text>]",
  summary: "Run a task on a local git repository, in this process (no server, no GitHub): the result is a branch there",
  options: [
    { name: "repo-path", value: "<dir>", description: "the git repository to work on (its current branch is the base)" },
    { name: "title", value: "<title>", description: "what the task should do, in one line" },
    { name: "description", value: "<text>", description: "more detail for the agent" },
  ],
  prepare(args) {
    takePositionals(args, []);
    const repoPath = requireOption(args.values["repo-path"], "repo-path", "dir");
    const title = requireOption(args.values.title, "title", "title").trim();
    if (title === "") throw usageError("--title must not be empty");
    const description = args.values.description ?? "";
    return async (_client, context) => {
      // Loaded here: the database, runner and sandbox code would slow every other command's start.
      const { runLocally } = await import("../local-run.ts");
      const result = await runLocally(context.loadConfig(), { repoPath, title, description }, context.progress);
      return render(result, repoPath);
    };
  },
};
