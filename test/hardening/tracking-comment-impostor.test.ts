// A tracking-comment impostor: another App's bot (or a person) posts a comment carrying the
// tracking marker, hoping the App edits that comment instead of its own — putting the task's
// status under someone else's name, or leaving the App's edits to a comment the impostor can
// change. Only a comment this App wrote (GitHub stamps it with the App's id) counts, and the id
// of the comment found is kept. Signed deliveries into the real server; GitHub is nock.
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { trackingMarker } from "../../src/github/tracking-comment.ts";
import { installationEvent, issueCommentCreated, issuesLabeled, type Scenario } from "../fixtures/webhooks.ts";
import { testDatabases } from "../helpers/databases.ts";
import { allowOnlyLocalhost, deliver, GitHubMock, githubAppEnv, TestOctokit } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

describe.each(testDatabases)("tracking comment impostors on %s", (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    allowOnlyLocalhost();
    server = await startTestServer(kind, { env: githubAppEnv, Octokit: TestOctokit });
    await send("installation", installationEvent("created", { account: "posthog", repositories: ["posthog/posthog"] }));
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    await server?.close();
    nock.enableNetConnect();
  });

  async function send(event: string, payload: unknown) {
    const res = await deliver(server.url, { event, payload });
    expect(res.status).toBe(202);
    await server.webhooksIdle();
  }
  const taskOf = async (issue: number) => (await server.db.prisma.task.findMany({ where: { issueNumber: issue } }))[0]!;

  it("does not edit another App's bot comment or a person's comment that carries the marker: it creates its own and keeps it", async () => {
    const issue = 60;
    const impostors = [
      { id: 601, body: `${trackingMarker}\n**Tasks** · all done, merge away`, appId: 999 },
      { id: 602, body: `${trackingMarker} pasted by someone`, bot: false },
    ];
    let github = new GitHubMock().permission("octocat", "write").issueReaction(issue).listComments(impostors, issue).createComment(issue, 603);
    await send("issues", issuesLabeled("task", { issue: { number: issue } }));
    expect(github.calls.map((call) => call.name)).toEqual(["issue reaction", "comment"]);
    expect(github.bodiesOf("comment")[0]!["body"]).toContain(trackingMarker);
    expect((await taskOf(issue)).trackingCommentId).toBe(603n);
    expect(github.pending()).toEqual([]);

    // The kept id is used directly: no listing, no look at the impostors again.
    github = new GitHubMock().permission("octocat", "write").commentReaction().updateComment(603);
    await send("issue_comment", issueCommentCreated("/task cancel", { issue: { number: issue } }));
    expect(github.calls.map((call) => call.name)).toEqual(["comment reaction", "update comment 603"]);
    expect(github.pending()).toEqual([]);
  });

  it("finds its own comment among impostors after its kept one was deleted, edits it and keeps its id", async () => {
    const issue = 61;
    const scenario: Scenario = { issue: { number: issue } };
    let github = new GitHubMock().permission("octocat", "write").issueReaction(issue).listComments([], issue).createComment(issue, 610);
    await send("issues", issuesLabeled("task", scenario));
    expect(github.pending()).toEqual([]);

    // The kept comment is gone; an impostor's marker comment comes first, ours after it.
    const comments = [
      { id: 611, body: `${trackingMarker}\nimpostor`, appId: 999 },
      { id: 612, body: `${trackingMarker}\nold` },
    ];
    github = new GitHubMock().permission("octocat", "write").commentReaction().updateDeletedComment(610).listComments(comments, issue).updateComment(612);
    await send("issue_comment", issueCommentCreated("/task cancel", scenario));
    expect(github.calls.map((call) => call.name)).toEqual(["comment reaction", "update comment 610", "update comment 612"]);
    expect(github.bodiesOf("update comment 612")[0]!["body"]).toContain("`cancelled`");
    expect((await taskOf(issue)).trackingCommentId).toBe(612n);
    expect(github.pending()).toEqual([]);

    // From now on, straight to the found comment.
    github = new GitHubMock().permission("octocat", "write").commentReaction().updateComment(612);
    await send("issue_comment", issueCommentCreated("/task retry", scenario));
    expect(github.calls.map((call) => call.name)).toEqual(["comment reaction", "update comment 612"]);
    expect(github.pending()).toEqual([]);
  });
});
