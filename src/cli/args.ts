// The command line, parsed once. Every option of every command is declared here, so one
// node:util parseArgs pass finds the command words wherever the options sit; dispatch then
// rejects options the chosen command does not take.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { usageError } from "./cli-error.ts";

const optionSpecs = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  url: { type: "string" },
  token: { type: "string" },
  team: { type: "string" },
  name: { type: "string" },
  github: { type: "string" },
  email: { type: "string" },
  installation: { type: "string" },
  account: { type: "string" },
  repo: { type: "string", multiple: true },
  status: { type: "string" },
  stage: { type: "string" },
  limit: { type: "string" },
  all: { type: "boolean" },
  failed: { type: "boolean" },
  "repo-path": { type: "string" },
  title: { type: "string" },
  description: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

export type OptionName = keyof typeof optionSpecs;

function parse(args: string[]) {
  return parseArgs({ args, options: optionSpecs, allowPositionals: true, strict: true, tokens: true });
}

export type OptionValues = ReturnType<typeof parse>["values"];

export interface CommandLine {
  readonly positionals: readonly string[];
  readonly values: OptionValues;
  /** Options as typed, in order: what dispatch checks against the command. */
  readonly used: readonly OptionName[];
}

/** What a command sees: the positionals after its own words, and the option values. */
export interface CommandArgs {
  readonly positionals: readonly string[];
  readonly values: OptionValues;
}

export function parseCommandLine(args: string[]): CommandLine {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw usageError(describeParseError(error));
  }
  const used: OptionName[] = [];
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    // `--team=` would otherwise reach the server as an empty name.
    if (token.value === "") throw usageError(`${token.rawName} needs a value`);
    used.push(token.name as OptionName);
  }
  return { positionals: parsed.positionals, values: parsed.values, used };
}

/** parseArgs explains itself in several sentences; one short line reads better on stderr. */
function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (!option) return message.split("\n")[0]!;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${option}`;
  if (message.includes("does not take an argument")) return `${option} takes no value`;
  return `${option} needs a value`;
}

/** The command's positionals by name; a missing or an extra one is a usage error. */
export function takePositionals<const Names extends readonly string[]>(args: CommandArgs, names: Names): { [K in keyof Names]: string } {
  const missing = names[args.positionals.length];
  if (missing) throw usageError(`missing <${missing}>`);
  const extra = args.positionals[names.length];
  if (extra !== undefined) throw usageError(`unexpected argument ${JSON.stringify(extra)}`);
  const empty = args.positionals.indexOf("");
  if (empty >= 0) throw usageError(`<${names[empty]}> must not be empty`);
  return args.positionals as unknown as { [K in keyof Names]: string };
}

export function requireOption(value: string | undefined, option: string, placeholder: string): string {
  if (value === undefined) throw usageError(`missing --${option} <${placeholder}>`);
  return value;
}
