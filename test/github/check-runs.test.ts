import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkRunName,
  maxSummaryBytes,
  stageExternalId,
  upsertStageCheckRun,
  type CheckRunMemory,
  type SentCheckRunState,
  type StageCheckRunInput,
} from "../../src/github/check-runs.ts";
import { hintOf } from "../../src/github/write-hint.ts";
import { TestOctokit } from "../helpers/github.ts";
import { GitHubApiMock } from "./mock-more.ts";

const octokit = () => new TestOctokit({ auth: { token: "ghs_publish" } });
const sha = "a".repeat(40);
const name = "Tasks · Code";
const stage: StageCheckRunInput = {
  owner: "posthog",
  repo: "posthog",
  headSha: sha,
  stageName: "Code",
  externalId: stageExternalId("run-1", "code"),
  status: "in_progress",
  title: "POS-123: running",
  summary: "cloning…",
  detailsUrl: "https://tasks.example.com/api/tasks/t1",
};

describe("upsertStageCheckRun", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("names runs per stage and keys them by run and stage", () => {
    expect(checkRunName("Code")).toBe(name);
    expect(stageExternalId("run-1", "code")).toBe("run-1:code");
  });

  it("creates the stage's check run when none carries its external_id", async () => {
    const github = new GitHubApiMock().listCheckRuns(sha, name, [{ id: 5, external_id: "run-0:code" }]).createCheckRun(77);
    expect(await upsertStageCheckRun(octokit(), stage)).toEqual({ id: 77, created: true });
    const [body] = github.bodiesOf("create check run");
    expect(body).toMatchObject({
      name,
      head_sha: sha,
      status: "in_progress",
      external_id: "run-1:code",
      details_url: "https://tasks.example.com/api/tasks/t1",
      output: { title: "POS-123: running", summary: "cloning…" },
    });
    expect(body).toHaveProperty("started_at");
    expect(body).not.toHaveProperty("conclusion");
    expect(github.pending()).toStrictEqual([]);
  });

  it("updates the run found by external_id instead of adding a second one", async () => {
    const github = new GitHubApiMock()
      .listCheckRuns(sha, name, [
        { id: 5, external_id: "run-0:code" },
        { id: 6, external_id: "run-1:code" },
      ])
      .updateCheckRun(6);
    expect(await upsertStageCheckRun(octokit(), { ...stage, status: "completed", conclusion: "success", title: "POS-123: success", summary: "done" })).toEqual({
      id: 6,
      created: false,
    });
    const [body] = github.bodiesOf("update check run 6");
    expect(body).toMatchObject({ name, status: "completed", conclusion: "success", external_id: "run-1:code", output: { title: "POS-123: success", summary: "done" } });
    expect(body).toHaveProperty("completed_at");
    expect(github.calls.map((call) => call.name)).not.toContain("create check run");
    expect(github.pending()).toStrictEqual([]);
  });

  /** A durable memory as the host keeps one (check_runs), in a variable. */
  function memory(initial: SentCheckRunState | null = null): CheckRunMemory & { sent: SentCheckRunState | null } {
    const kept = { sent: initial, recall: async () => kept.sent, remember: async (sent: SentCheckRunState) => void (kept.sent = sent) };
    return kept;
  }

  it("with a memory, creates without listing, then updates by the kept id, and never sends the same state twice", async () => {
    const kept = memory();
    const github = new GitHubApiMock().createCheckRun(81).updateCheckRun(81);
    expect(await upsertStageCheckRun(octokit(), { ...stage, memory: kept })).toEqual({ id: 81, created: true });
    // A retried step reports the same state again: nothing is sent.
    expect(await upsertStageCheckRun(octokit(), { ...stage, memory: kept })).toEqual({ id: 81, created: false });
    const done = { ...stage, status: "completed" as const, conclusion: "success" as const, summary: "done", memory: kept };
    expect(await upsertStageCheckRun(octokit(), done)).toEqual({ id: 81, created: false });
    expect(await upsertStageCheckRun(octokit(), done)).toEqual({ id: 81, created: false });
    expect(github.calls.map((call) => call.name)).toStrictEqual(["create check run", "update check run 81"]);
    expect(kept.sent?.checkRunId).toBe(81);
    expect(github.pending()).toStrictEqual([]);
  });

  it("hints progress writes by the check run's external_id, and publish-time conclusions as publish", async () => {
    const github = new GitHubApiMock().createCheckRun(82).createCheckRun(83);
    const client = octokit();
    const hints: unknown[] = [];
    client.hook.before("request", (options) => void hints.push(hintOf(options)));
    await upsertStageCheckRun(client, { ...stage, memory: memory() });
    await upsertStageCheckRun(client, { ...stage, headSha: "b".repeat(40), status: "completed", conclusion: "success", memory: memory(), priority: "publish" });
    expect(hints).toStrictEqual([{ priority: "progress", coalesceKey: "check-run:run-1:code" }, { priority: "publish" }]);
    expect(github.pending()).toStrictEqual([]);
  });

  it.each(["failure", "cancelled", "action_required"] as const)("reports %s as itself", async (conclusion) => {
    const github = new GitHubApiMock().listCheckRuns(sha, name, [{ id: 6, external_id: "run-1:code" }]).updateCheckRun(6);
    await upsertStageCheckRun(octokit(), { ...stage, status: "completed", conclusion });
    expect(github.bodiesOf("update check run 6")[0]).toMatchObject({ status: "completed", conclusion });
    expect(github.pending()).toStrictEqual([]);
  });

  it("refuses a conclusion without completion, and completion without a conclusion", async () => {
    const github = new GitHubApiMock();
    await expect(upsertStageCheckRun(octokit(), { ...stage, status: "in_progress", conclusion: "failure" })).rejects.toMatchObject({ code: "invalid_check_run" });
    await expect(upsertStageCheckRun(octokit(), { ...stage, status: "completed" })).rejects.toMatchObject({ code: "invalid_check_run" });
    expect(github.calls).toStrictEqual([]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("keeps the tail of a long output within GitHub's summary limit", async () => {
    const github = new GitHubApiMock().listCheckRuns(sha, name, []).createCheckRun(78);
    const log = Array.from({ length: 20_000 }, (_, index) => `line ${index} ✓`).join("\n") + "\nError: the last line";
    await upsertStageCheckRun(octokit(), { ...stage, status: "completed", conclusion: "failure", summary: log });
    const summary = (github.bodiesOf("create check run")[0]!["output"] as { summary: string }).summary;
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(maxSummaryBytes);
    expect(summary).toMatch(/^… \(truncated: \d+ characters omitted\)\n\n/);
    expect(summary.endsWith("Error: the last line")).toBe(true);
    expect(github.pending()).toStrictEqual([]);
  });
});
