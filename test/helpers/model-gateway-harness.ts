// The real model gateway for tests that drive a real agent: its handler mounted on an HTTP server
// on 127.0.0.1 with a real database, forwarding to a stand-in vendor with made-up operator keys.
// Each run a test starts is a real TaskRun in `running` with a freshly minted run token, so the
// gateway authenticates, meters and budgets it exactly as in production.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { createModelGateway } from "../../src/gateway/create-model-gateway.ts";
import { mintRunToken } from "../../src/gateway/run-tokens.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { openTestDatabase, type TestDatabase, type TestDatabaseKind } from "./databases.ts";
import { createRecordingOrchestrator } from "./recording-orchestrator.ts";

/** The operator's keys as the stand-in vendor sees them: never the run token. */
export const operatorKeys = { anthropic: "sk-ant-operator-key-for-tests", openai: "sk-operator-openai-key-for-tests" };

export interface ModelGatewayHarness {
  /** The gateway's base URL (its routes are `<url>/model/<vendor>/…`). */
  url: string;
  db: TestDatabase;
  /** A new running TaskRun and its gateway token. */
  startRun(): Promise<{ runId: string; token: string }>;
  usage(runId: string): Promise<{ inputTokens: number; outputTokens: number }>;
  close(): Promise<void>;
}

/** `upstreamUrl` serves Anthropic's routes at its root and OpenAI's under `/v1`. */
export async function startModelGatewayHarness(kind: TestDatabaseKind, upstreamUrl: string): Promise<ModelGatewayHarness> {
  const log = pino({ level: "silent" });
  const db = await openTestDatabase(kind);
  const settings = {
    anthropic: { baseUrl: upstreamUrl, apiKey: operatorKeys.anthropic },
    openai: { baseUrl: `${upstreamUrl}/v1`, apiKey: operatorKeys.openai },
    runTokenBudget: 10_000_000,
  };
  const handle = createModelGateway({ db: db.prisma, settings, log });
  const server = http.createServer((req, res) => void handle(req, res).then((handled) => handled || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const tasks = createTasksService({ db: db.prisma, flags: createLocalFlagChecker(db.prisma), orchestrator: createRecordingOrchestrator(), log });
  const team = await tasks.createTeam(`Real CLI ${Math.random().toString(36).slice(2, 8)}`);
  const userId = `cli-${team.id}`;
  await tasks.addTeamMember(team.id, { externalId: userId });
  await tasks.addIntegration(team.id, { installationId: Math.floor(Math.random() * 1e9), repositories: ["local/app"] });

  return {
    url,
    db,
    async startRun() {
      const { task } = await tasks.createAndRun({ teamId: team.id, title: "Drive a real agent", description: "d", originProduct: "user_created", userId, repository: "local/app" });
      const runId = (await tasks.getTask(undefined, task.id)).runs[0]!.id;
      await db.prisma.taskRun.update({ where: { id: runId }, data: { status: "running" } });
      return { runId, token: await mintRunToken(db.prisma, runId) };
    },
    usage: (runId) => db.prisma.taskRun.findUniqueOrThrow({ where: { id: runId }, select: { inputTokens: true, outputTokens: true } }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
    },
  };
}
