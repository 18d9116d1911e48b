// Help texts: global (tasks --help), per group (tasks team --help), per command.
import type { Command, OptionHelp } from "./command.ts";
import { columns, indent } from "./output.ts";

const globalOptions: readonly OptionHelp[] = [
  { name: "url", value: "<base>", description: "server base URL (default http://localhost:$PORT)" },
  { name: "token", value: "<token>", description: "admin token (default $TASKS_ADMIN_TOKEN, else $TASKS_DATA_DIR/admin-token)" },
  { name: "json", description: "print one JSON object instead of text" },
  { name: "help", description: "show help; after a command, that command's help" },
];

const optionList = (options: readonly OptionHelp[]): string =>
  indent(columns(options.map((option) => [`${option.name === "help" ? "-h, " : ""}--${option.name}${option.value ? ` ${option.value}` : ""}`, option.description])));

// Options are left to each command's own help, to keep the list narrow.
const shortUsage = (command: Command): string =>
  command.usage
    .replace(/\[[^\]]*\]/g, "")
    .replace(/--\S+ <[^>]*>(\.\.\.)?/g, "")
    .replace(/\s+/g, " ")
    .trim();

const commandList = (commands: readonly Command[]): string => indent(columns(commands.map((command) => [`tasks ${shortUsage(command)}`, command.summary])));

export function globalHelp(commands: readonly Command[]): string {
  return [
    "tasks: operate a Tasks server through its admin API, or run a task on a local repository (tasks run)",
    "",
    "Usage: tasks <command> [options]",
    "",
    "Commands:",
    commandList(commands),
    "",
    "Global options:",
    optionList(globalOptions),
    "",
    'Run "tasks <command> --help" for a command\'s options.',
  ].join("\n");
}

export function groupHelp(group: string, commands: readonly Command[]): string {
  return [`Usage: tasks ${group} <${commands.map((command) => command.words[1]).join("|")}> [options]`, "", "Commands:", commandList(commands)].join("\n");
}

export function commandHelp(command: Command): string {
  const sections = [`Usage: tasks ${command.usage}`, "", `${command.summary}.`];
  if (command.options.length > 0) sections.push("", "Options:", optionList(command.options));
  sections.push("", "Global options:", optionList(globalOptions));
  return sections.join("\n");
}
