// From argv to an exit code: find the command, check its arguments, resolve the server and
// token, run it, print. Every failure ends here as one line on stderr.
import { ConfigError, type Config } from "../config.ts";
import { createAdminClient, type AdminClient } from "./admin-client.ts";
import { parseCommandLine, type OptionName } from "./args.ts";
import { CliError, usageError } from "./cli-error.ts";
import type { Command, Output } from "./command.ts";
import { commands } from "./commands/index.ts";
import { resolveConnection, type ConnectionOptions } from "./connection.ts";
import { commandHelp, globalHelp, groupHelp } from "./help.ts";
import { oneLine, printable } from "./output.ts";

export interface CliDeps {
  readonly loadConfig: () => Config;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

type Found = { kind: "help"; text: string } | { kind: "command"; command: Command; rest: readonly string[] };

const globalOptionNames: readonly OptionName[] = ["help", "json", "url", "token"];

export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  // Guessed from argv until parsing succeeds, so even a usage error comes out as asked.
  let json = argv.includes("--json");
  try {
    const line = parseCommandLine(argv);
    json = line.values.json === true;
    const found = findCommand(line.positionals, line.values.help === true);
    if (found.kind === "help") {
      deps.stdout(`${found.text}\n`);
      return 0;
    }
    checkOptions(found.command, line.used);
    const action = found.command.prepare({ positionals: found.rest, values: line.values });
    const output = await action(connectOnFirstRequest(line.values, deps), {
      loadConfig: deps.loadConfig,
      progress: (text) => deps.stderr(`${printable(text)}\n`),
    });
    print(output, json, deps);
    return output.failed === undefined ? 0 : 1;
  } catch (error) {
    const failure = toCliError(error);
    deps.stderr(`${formatError(failure, json)}\n`);
    return failure.exitCode;
  }
}

function connectOnFirstRequest(options: ConnectionOptions, deps: CliDeps): AdminClient {
  let client: Promise<AdminClient> | undefined;
  return {
    async request(method, path, body) {
      client ??= resolveConnection(options, deps.loadConfig).then(createAdminClient);
      return (await client).request(method, path, body);
    },
  };
}

function findCommand(positionals: readonly string[], help: boolean): Found {
  const [first, second] = positionals;
  if (first === undefined) {
    if (help) return { kind: "help", text: globalHelp(commands) };
    throw usageError('missing command (see "tasks --help")');
  }
  const group = commands.filter((command) => command.words[0] === first);
  const command = group.find((candidate) => candidate.words.length === 1 || candidate.words[1] === second);
  if (command) return help ? { kind: "help", text: commandHelp(command) } : { kind: "command", command, rest: positionals.slice(command.words.length) };
  if (group.length === 0) throw usageError(`unknown command ${JSON.stringify(first)} (see "tasks --help")`);
  if (second === undefined && help) return { kind: "help", text: groupHelp(first, group) };
  const choices = group.map((candidate) => candidate.words[1]).join(", ");
  if (second === undefined) throw usageError(`missing subcommand of "tasks ${first}": ${choices}`);
  throw usageError(`unknown command "${first} ${second}" (tasks ${first} has: ${choices})`);
}

function checkOptions(command: Command, used: readonly OptionName[]): void {
  const allowed = new Set([...globalOptionNames, ...command.options.map((option) => option.name)]);
  const unknown = used.find((name) => !allowed.has(name));
  if (unknown) throw usageError(`"tasks ${command.words.join(" ")}" takes no --${unknown} (see "tasks ${command.words.join(" ")} --help")`);
}

function print(output: Output, json: boolean, deps: CliDeps): void {
  if (json) {
    deps.stdout(`${JSON.stringify(output.json, null, 2)}\n`);
    return;
  }
  deps.stdout(`${printable(output.human)}\n`);
  if (output.hint) deps.stderr(`${output.hint}\n`);
  if (output.failed !== undefined) deps.stderr(`tasks: ${oneLine(output.failed)}\n`);
}

function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ConfigError) return new CliError("config", "invalid_config", `invalid configuration: ${error.message}`);
  // A bug in the CLI itself: still one line, never a stack trace.
  return new CliError("internal", "internal", `internal error: ${error instanceof Error ? error.message : String(error)}`);
}

function formatError(error: CliError, json: boolean): string {
  if (!json) return `tasks: ${oneLine(error.message)}`;
  return JSON.stringify({ error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
}
