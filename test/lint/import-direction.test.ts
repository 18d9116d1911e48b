// The module map is enforced by lint: a wrong-way import fails `npm run lint`, and so CI. These
// cases lint deliberately wrong files through ESLint itself, with the project's own config.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint();

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).filter((message) => message.ruleId === "no-restricted-imports").map((message) => message.message);
}

describe("the module map in lint", () => {
  it.each([
    ["the domain importing an HTTP route", "src/tasks/wrong.ts", 'import { createApi } from "../api/create-api.ts";\nexport const a = createApi;'],
    ["the pure pipeline importing configuration", "src/pipeline/wrong.ts", 'import { loadConfig } from "../config.ts";\nexport const a = loadConfig;'],
    ["the pure pipeline doing I/O", "src/pipeline/wrong.ts", 'import { readFile } from "node:fs/promises";\nexport const a = readFile;'],
    ["a CLI command importing a webhook handler", "src/cli/commands/wrong.ts", 'import { createGitHubApp } from "../../app/create-github-app.ts";\nexport const a = createGitHubApp;'],
    ["the GitHub client code importing the database", "src/github/wrong.ts", 'import { openDatabase } from "../db/open-database.ts";\nexport const a = openDatabase;'],
    ["a handler reaching past the domain into the engine", "src/app/wrong.ts", 'import { createEmbeddedRunner } from "../runner/embedded-runner.ts";\nexport const a = createEmbeddedRunner;'],
    ["workflow code importing the activity SDK", "src/temporal/workflows.ts", 'import { Context } from "@temporalio/activity";\nexport const a = Context;'],
    ["workflow code importing a value from lib/", "src/temporal/workflows.ts", 'import { AppError } from "../lib/errors.ts";\nexport const a = AppError;'],
    ["the domain querying Prisma itself instead of through db/", "src/tasks/wrong.ts", 'import { Prisma } from "../generated/prisma/client.ts";\nexport const a = Prisma.sql;'],
    ["the model gateway importing the domain", "src/gateway/wrong.ts", 'import { createTasksService } from "../tasks/service.ts";\nexport const a = createTasksService;'],
    ["anything but the composition root importing it", "src/activities/wrong.ts", 'import { createEngine } from "../compose.ts";\nexport const a = createEngine;'],
  ])("fails %s", async (_name, file, code) => {
    expect(await restrictedImports(file, code)).not.toEqual([]);
  });

  it.each([
    ["a handler calling the domain", "src/app/right.ts", 'import { createTasksService } from "../tasks/service.ts";\nexport const a = createTasksService;'],
    ["workflow code importing a type from lib/", "src/temporal/workflows.ts", 'import type { Logger } from "../lib/logger.ts";\nexport type A = Logger;'],
    ["the domain using the generated client's types", "src/tasks/right.ts", 'import type { Task } from "../generated/prisma/client.ts";\nexport type A = Task;'],
    ["the composition root importing any room", "src/compose.ts", 'import { createApi } from "./api/create-api.ts";\nexport const a = createApi;'],
  ])("allows %s", async (_name, file, code) => {
    expect(await restrictedImports(file, code)).toEqual([]);
  });
});
