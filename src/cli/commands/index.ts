// Every command, in the order help lists them.
import type { Command } from "../command.ts";
import { apikeyCreate } from "./apikey.ts";
import { cancel } from "./cancel.ts";
import { deliveries, deliveriesRetry } from "./deliveries.ts";
import { flagSet } from "./flag.ts";
import { integrationAdd } from "./integration.ts";
import { list } from "./list.ts";
import { run } from "./run.ts";
import { show } from "./show.ts";
import { teamCreate, teamList } from "./team.ts";
import { userAdd } from "./user.ts";

// A group's two-word command comes before its one-word command, which would otherwise take its words.
export const commands: readonly Command[] = [teamCreate, teamList, userAdd, apikeyCreate, flagSet, integrationAdd, list, show, cancel, deliveriesRetry, deliveries, run];
