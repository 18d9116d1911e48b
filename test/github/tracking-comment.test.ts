// The tracking comment is sent once per change: a render that comes out the same as the body
// last sent (its hash kept with the comment's id, in the database in production) is not sent
// again, whichever writer renders it; a changed one is one edit of the kept comment.
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { upsertTrackingComment, type TrackingState } from "../../src/github/tracking-comment.ts";
import { hintOf, type WriteHint } from "../../src/github/write-hint.ts";
import { GitHubMock, TestOctokit } from "../helpers/github.ts";

const octokit = () => new TestOctokit({ auth: { token: "ghs_progress" } });
const issue = { owner: "posthog", repo: "posthog", issue_number: 7 };
const stages = [
  { key: "plan", name: "Plan" },
  { key: "code", name: "Code" },
];

/** The comment's row as the database keeps it, shared by every "process" below. */
function storedComment() {
  const row = { commentId: null as number | null, sentHash: null as string | null, currentStage: "plan" };
  const load = async (): Promise<TrackingState> => ({
    view: { slug: "POS-1", title: "Dark mode", status: "running", stages, currentStage: row.currentStage },
    commentId: row.commentId,
    sentHash: row.sentHash,
  });
  const remember = async (commentId: number, bodyHash: string) => {
    row.commentId = commentId;
    row.sentHash = bodyHash;
  };
  return { row, load, options: { taskUrl: "https://tasks.example.com/api/tasks/t1", remember } };
}

describe("upsertTrackingComment", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("sends an unchanged body once, from any writer, and a changed one as one edit", async () => {
    const stored = storedComment();
    const github = new GitHubMock().listComments([]).createComment(7, 555).updateComment(555);

    expect(await upsertTrackingComment(octokit(), issue, stored.load, stored.options)).toBe(555);
    // The same state again, from this writer and from another one (a fresh client, as another process has).
    expect(await upsertTrackingComment(octokit(), issue, stored.load, stored.options)).toBe(555);
    expect(await upsertTrackingComment(octokit(), issue, stored.load, { ...stored.options, createIfMissing: false })).toBe(555);
    expect(github.calls.map((call) => call.name)).toStrictEqual(["comment"]);

    stored.row.currentStage = "code";
    expect(await upsertTrackingComment(octokit(), issue, stored.load, stored.options)).toBe(555);
    expect(await upsertTrackingComment(octokit(), issue, stored.load, stored.options)).toBe(555);
    expect(github.calls.map((call) => call.name)).toStrictEqual(["comment", "update comment 555"]);
    expect(String(github.bodiesOf("update comment 555")[0]!["body"])).toContain("- [ ] Code ← current");
    expect(github.pending()).toStrictEqual([]);
  });

  it("tells the write scheduler what each write is: the first comment acknowledges, edits are progress to that comment", async () => {
    const stored = storedComment();
    const github = new GitHubMock().listComments([]).createComment(7, 556).updateComment(556);
    const client = octokit();
    const hints: { method: string; hint: WriteHint | undefined }[] = [];
    client.hook.before("request", (options) => void hints.push({ method: options.method, hint: hintOf(options) }));
    await upsertTrackingComment(client, issue, stored.load, stored.options);
    stored.row.currentStage = "code";
    await upsertTrackingComment(client, issue, stored.load, stored.options);
    expect(hints).toStrictEqual([
      { method: "GET", hint: undefined },
      { method: "POST", hint: { priority: "acknowledge" } },
      { method: "PATCH", hint: { priority: "progress", coalesceKey: "comment:556" } },
    ]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("a writer that keeps no hash sends every render, so a stale hash can never hide a change", async () => {
    const stored = storedComment();
    stored.row.commentId = 555;
    const github = new GitHubMock().updateComment(555).updateComment(555);
    const forgetful = { ...stored.options, remember: async (commentId: number) => void (stored.row.commentId = commentId) };
    await upsertTrackingComment(octokit(), issue, stored.load, forgetful);
    await upsertTrackingComment(octokit(), issue, stored.load, forgetful);
    expect(github.calls.map((call) => call.name)).toStrictEqual(["update comment 555", "update comment 555"]);
    expect(github.pending()).toStrictEqual([]);
  });
});
