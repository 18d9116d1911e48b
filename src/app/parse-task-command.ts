// The `/task` comment command (TASKS_COMMAND). Strict on purpose: only a plain-ASCII command
// at the very start of a line, outside code blocks, quotes and HTML comments, counts — so a
// quoted command, a lookalike (fullwidth `／task`, a zero-width joiner inside) or text hidden
// from the rendered comment can never start work.
import { stripHiddenText } from "../lib/strip-hidden-text.ts";

export type TaskCommand =
  | { kind: "create"; instructions: string }
  | { kind: "status" }
  | { kind: "cancel" }
  | { kind: "retry" }
  | { kind: "approve" }
  | { kind: "help" };

const subcommands = new Set(["status", "cancel", "retry", "approve", "help"]);
const fence = /^ {0,3}(```|~~~)/;

/** The first command in the comment, or undefined when there is none. */
export function parseTaskCommand(body: string, command = "/task"): TaskCommand | undefined {
  // HTML comments are removed first (they are invisible when rendered); the raw lines are
  // otherwise checked as written, so hidden characters inside the command word defeat it.
  const lines = body.replace(/<!--[\s\S]*?(?:-->|$)/g, "").split(/\r?\n/);
  let openFence: string | undefined;
  for (const [index, line] of lines.entries()) {
    const fenceMatch = fence.exec(line);
    if (fenceMatch) {
      if (!openFence) openFence = fenceMatch[1];
      else if (fenceMatch[1] === openFence) openFence = undefined;
      continue;
    }
    if (openFence || !line.startsWith(command)) continue;
    const rest = line.slice(command.length);
    if (rest !== "" && !rest.startsWith(" ") && !rest.startsWith("\t")) continue;
    const first = rest.trim();
    const word = first.toLowerCase();
    if (subcommands.has(word)) return { kind: word } as TaskCommand;
    const following = lines.slice(index + 1).join("\n");
    const instructions = stripHiddenText([first, following].join("\n")).trim();
    return { kind: "create", instructions };
  }
  return undefined;
}
