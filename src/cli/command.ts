// The shape every command has. prepare() checks the arguments before any token is read or any
// request made, so a usage error never depends on the server being up.
import type { Config } from "../config.ts";
import type { AdminClient } from "./admin-client.ts";
import type { CommandArgs, OptionName } from "./args.ts";

export interface Output {
  /** What --json prints: always exactly one object. */
  readonly json: object;
  /** What a person reads. */
  readonly human: string;
  /** A remark for a person only (stderr), never part of --json output. */
  readonly hint?: string;
  /** The command ran, but what it did failed (a local run): printed, then exit 1. */
  readonly failed?: string;
}

export interface ActionContext {
  readonly loadConfig: () => Config;
  /** A progress line for a person (stderr), as work goes on. */
  readonly progress: (line: string) => void;
}

/** The client connects on its first request, so commands that never make one need no server. */
export type Action = (client: AdminClient, context: ActionContext) => Promise<Output>;

export interface OptionHelp {
  readonly name: OptionName;
  readonly value?: string;
  readonly description: string;
}

export interface Command {
  /** The words that select it, e.g. ["team", "create"]. */
  readonly words: readonly string[];
  /** Everything after "tasks ", e.g. "team create <name>". */
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly OptionHelp[];
  prepare(args: CommandArgs): Action;
}

/** Path segments such as team names may hold spaces or slashes. */
export const segment = (value: string): string => encodeURIComponent(value);
