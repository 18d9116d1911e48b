// The agent log with a real database: a flood stays within the run's cap and bounded memory, the
// stage's tail is kept and the omission said, long lines are cut, and secrets are stored redacted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_LINE_CHARS } from "../../src/agent/process-output.ts";
import { createAgentLog, PENDING_LIMIT, RUN_LOG_CAP, RunLogBudget, STAGE_TAIL } from "../../src/stage-work/agent-log.ts";
import { fake } from "../publish/fake-secrets.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";

describe.each(testDatabases)("agent log on %s", (kind) => {
  let db: TestDatabase;
  let taskId: string;

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    const team = await db.prisma.team.create({ data: { name: "Logs", prefix: "LOG" } });
    const workflow = await db.prisma.workflow.create({ data: { teamId: team.id, name: "default" } });
    const task = await db.prisma.task.create({
      data: { teamId: team.id, number: 1, slug: "LOG-1", title: "t", description: "d", originProduct: "user_created", repository: "o/r", workflowId: workflow.id },
    });
    taskId = task.id;
  });
  afterAll(async () => {
    await db?.close();
  });

  let attempt = 0;
  async function newRun(): Promise<string> {
    attempt += 1;
    return (await db.prisma.taskRun.create({ data: { taskId, attempt } })).id;
  }

  async function storedEvents(runId: string) {
    const events = await db.prisma.taskEvent.findMany({ where: { runId, type: "agent_output" }, orderBy: { id: "asc" } });
    return events.map((event) => ({ message: event.message ?? "", data: event.data as { stage: string; lines: number; omitted?: number; redacted?: string[] } }));
  }

  it("keeps a flood of 200,000 lines within the run's cap and bounded memory, with the tail and an omission summary", async () => {
    const runId = await newRun();
    const log = createAgentLog(db.prisma, { taskId, runId, stage: "code" });
    for (let index = 0; index < 200_000; index++) log.line(`line ${index}`);
    await log.flush();

    const events = await storedEvents(runId);
    const storedLines = events.flatMap((event) => event.message.split("\n"));
    const storedBytes = events.reduce((sum, event) => sum + Buffer.byteLength(event.message), 0);
    // The live part never passes the cap; the tail and its summary come on top, bounded per stage.
    expect(storedLines.length).toBeLessThanOrEqual(RUN_LOG_CAP.lines + STAGE_TAIL.lines + 2);
    expect(storedBytes).toBeLessThanOrEqual(RUN_LOG_CAP.bytes + STAGE_TAIL.bytes + 1_000);
    expect(log.peak.pending.lines).toBeLessThanOrEqual(PENDING_LIMIT.lines);
    expect(log.peak.pending.bytes).toBeLessThanOrEqual(PENDING_LIMIT.bytes);
    expect(log.peak.tail.lines).toBeLessThanOrEqual(STAGE_TAIL.lines);

    const last = events.at(-1)!;
    const expectedTail = Array.from({ length: STAGE_TAIL.lines }, (_, i) => `line ${200_000 - STAGE_TAIL.lines + i}`);
    expect(last.message.split("\n")).toEqual(expectedTail);
    const summary = events.at(-2)!;
    expect(summary.message).toMatch(/^\[… \d+ lines omitted: this run's agent log reached its cap of 5000 lines/);
    // Every line is accounted for: stored, or counted in an omission.
    const omitted = events.reduce((sum, event) => sum + (event.data.omitted ?? 0), 0);
    const storedLogLines = storedLines.filter((line) => line.startsWith("line ")).length;
    expect(storedLogLines + omitted).toBe(200_000);
    expect(storedLines[0]).toBe("line 0");
  });

  it("shares the cap between a run's stages: a later stage past it keeps only its tail", async () => {
    const runId = await newRun();
    const budget = new RunLogBudget({ lines: 10, bytes: 1_000_000 });
    const plan = createAgentLog(db.prisma, { taskId, runId, stage: "plan" }, budget);
    for (let index = 0; index < 8; index++) plan.line(`plan ${index}`);
    await plan.flush();
    const code = createAgentLog(db.prisma, { taskId, runId, stage: "code" }, budget);
    for (let index = 0; index < 500; index++) code.line(`code ${index}`);
    await code.flush();

    const events = await storedEvents(runId);
    const byStage = (stage: string) => events.filter((event) => event.data.stage === stage).flatMap((event) => event.message.split("\n"));
    expect(byStage("plan")).toEqual(Array.from({ length: 8 }, (_, i) => `plan ${i}`));
    const codeLines = byStage("code");
    expect(codeLines.slice(0, 2)).toEqual(["code 0", "code 1"]);
    expect(codeLines[2]).toBe(`[… ${500 - 2 - STAGE_TAIL.lines} lines omitted: this run's agent log reached its cap of 10 lines or 977 KB; the stage's last ${STAGE_TAIL.lines} lines follow …]`);
    expect(codeLines.slice(3)).toEqual(Array.from({ length: STAGE_TAIL.lines }, (_, i) => `code ${400 + i}`));
  });

  it("cuts a 10 MB line to the line limit with a marker", async () => {
    const runId = await newRun();
    const log = createAgentLog(db.prisma, { taskId, runId, stage: "code" });
    log.line("x".repeat(10 * 1024 * 1024));
    log.line("after");
    await log.flush();

    const [event] = await storedEvents(runId);
    const [long, after] = event!.message.split("\n");
    expect(long).toBe(`${"x".repeat(MAX_LINE_CHARS)}… [${10 * 1024 * 1024 - MAX_LINE_CHARS} more characters]`);
    expect(after).toBe("after");
  });

  it("stores a secret redacted, naming the rule and never the value", async () => {
    const runId = await newRun();
    const log = createAgentLog(db.prisma, { taskId, runId, stage: "code" });
    log.line("cloning the repository");
    log.line(`export GITHUB_TOKEN=${fake.githubClassic}`);
    log.line("done");
    await log.flush();

    const events = await storedEvents(runId);
    const text = events.map((event) => event.message).join("\n");
    expect(text).not.toContain(fake.githubClassic);
    expect(text).toBe("cloning the repository\nexport GITHUB_TOKEN=[redacted: @secretlint/secretlint-rule-github]\ndone");
    expect(events[0]!.data.redacted).toEqual(["@secretlint/secretlint-rule-github"]);
  });
});
