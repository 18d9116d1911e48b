// Reply spam and command floods: an outsider who comments `/task` over and over must not make
// the App answer every time, a redelivered (or re-run) delivery must not be answered twice, and
// one writer — or a whole repository — giving a hundred commands a minute is limited, with one
// polite reply. The real Probot handlers, the real tasks service and database; GitHub is nock,
// and the limits' clock is injected so "an hour later" needs no waiting.
import nock from "nock";
import { pino } from "pino";
import { Probot } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitHubApp } from "../../src/app/create-github-app.ts";
import { triggerLimits } from "../../src/app/trigger-limits.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { installationEvent, issueCommentCreated, issuesLabeled, type Scenario } from "../fixtures/webhooks.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { appPrivateKey, GitHubMock, TestOctokit } from "../helpers/github.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const minute = 60_000;
const repoPath = "/repos/posthog/posthog";

describe.each(testDatabases)("replies and command limits on %s", (kind) => {
  let db: TestDatabase;
  let probot: Probot;
  let clock = new Date("2026-06-01T12:00:00Z");
  let delivery = 0;
  // Each test starts on a day of its own, so no test inherits another's windows.
  let day = 0;
  const startDay = () => {
    clock = new Date(Date.UTC(2026, 5, 1 + ++day, 12));
  };
  const later = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  beforeAll(async () => {
    nock.disableNetConnect();
    db = await openTestDatabase(kind);
    const log = pino({ level: "silent" });
    const tasks = createTasksService({ db: db.prisma, flags: createLocalFlagChecker(db.prisma), orchestrator: createRecordingOrchestrator(), log });
    probot = new Probot({ appId: 12345, privateKey: appPrivateKey, Octokit: TestOctokit, log });
    await probot.load(createGitHubApp({ tasks, label: "task", command: "/task", publicUrl: "https://tasks.example.com", log, now: () => clock }));
    await receive("installation", installationEvent("created", { account: "posthog", repositories: ["posthog/posthog"] }));
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    await db?.close();
    nock.enableNetConnect();
  });

  /** Runs the delivery's handlers as the inbox does; the same id again is a redelivery. */
  async function receive(name: string, payload: object, id = `delivery-${++delivery}`): Promise<string> {
    await probot.receive({ id, name, payload } as Parameters<Probot["receive"]>[0]);
    return id;
  }
  const comment = (body: string, scenario: Scenario) => receive("issue_comment", issueCommentCreated(body, scenario));

  it("answers an outsider's five refused /task comments on one issue once, and a second issue once", async () => {
    startDay();
    const stranger = { login: "stranger", id: 7001 };
    const github = new GitHubMock();
    for (let i = 0; i < 6; i++) github.notCollaborator("stranger");
    github.createComment(40).createComment(41);
    for (let i = 0; i < 5; i++) {
      await comment("/task do it", { issue: { number: 40 }, sender: stranger });
      later(minute);
    }
    await comment("/task do it", { issue: { number: 41 }, sender: stranger });
    expect(github.bodiesOf("comment")).toEqual([
      { body: "Tasks did not start: @stranger is not a collaborator; starting Tasks needs write access to this repository." },
      { body: "Tasks did not start: @stranger is not a collaborator; starting Tasks needs write access to this repository." },
    ]);
    expect(github.pending()).toEqual([]);
  });

  it("never answers one refusal twice, even redelivered after the hour; a new refusal after the hour is answered once", async () => {
    startDay();
    const reader = { login: "reader", id: 7002 };
    let github = new GitHubMock().permission("reader", "triage").createComment(42);
    const first = await receive("issues", issuesLabeled("task", { issue: { number: 42 }, sender: reader }));
    expect(github.bodiesOf("comment")).toHaveLength(1);
    expect(github.pending()).toEqual([]);

    // The same delivery again: at once (a second worker), and after the hour (a redelivery).
    github = new GitHubMock().permission("reader", "triage").permission("reader", "triage");
    await receive("issues", issuesLabeled("task", { issue: { number: 42 }, sender: reader }), first);
    later(61 * minute);
    await receive("issues", issuesLabeled("task", { issue: { number: 42 }, sender: reader }), first);
    expect(github.calls).toEqual([]);
    expect(github.pending()).toEqual([]);

    // A new refusal after the hour: one more reply, then quiet again.
    github = new GitHubMock().permission("reader", "triage").permission("reader", "triage").createComment(42);
    await receive("issues", issuesLabeled("task", { issue: { number: 42 }, sender: reader }));
    later(59 * minute);
    await receive("issues", issuesLabeled("task", { issue: { number: 42 }, sender: reader }));
    expect(github.bodiesOf("comment")).toEqual([{ body: "Tasks did not start: @reader has triage access; starting Tasks needs write access to this repository." }]);
    expect(github.pending()).toEqual([]);
  });

  it("answers refusals taken by several workers at once one time: the count is the database's", async () => {
    startDay();
    const stranger = { login: "stranger", id: 7004 };
    const github = new GitHubMock();
    for (let i = 0; i < 8; i++) github.notCollaborator("stranger");
    github.createComment(43);
    const payload = issueCommentCreated("/task do it", { issue: { number: 43 }, sender: stranger });
    // Five comments and three copies of one delivery, all in flight together.
    await Promise.all([
      ...Array.from({ length: 5 }, () => receive("issue_comment", payload)),
      ...Array.from({ length: 3 }, () => receive("issue_comment", payload, "one-delivery-three-workers")),
    ]);
    expect(github.bodiesOf("comment")).toHaveLength(1);
    expect(github.pending()).toEqual([]);
  });

  it("limits 100 /task comments from one writer in a minute: the first ones start tasks, one polite reply, then heard again after the window", async () => {
    startDay();
    const { max, windowMs } = triggerLimits.perUser;
    const writer = { login: "busy-writer", id: 7003 };
    const replies: string[] = [];
    const scope = nock("https://api.github.com")
      .post(/\/app\/installations\/\d+\/access_tokens/).optionally().reply(201, { token: "ghs_installation_token", expires_at: "2999-01-01T00:00:00Z" })
      .get(`${repoPath}/collaborators/busy-writer/permission`).times(101).reply(200, { permission: "write", role_name: "write" })
      .post(/\/issues\/comments\/\d+\/reactions$/).times(max + 1).reply(201, { id: 1, content: "eyes" })
      .get(/\/issues\/\d+\/comments/).query(true).times(max + 1).reply(200, [])
      .post(/\/issues\/\d+\/comments$/, (body: { body: string }) => (replies.push(body.body), true)).times(max + 2).reply(201, { id: 555 });

    for (let i = 0; i < 100; i++) {
      await comment("/task", { issue: { number: 1000 + i }, sender: writer });
      if (i % 10 === 9) later(5_000);
    }
    expect(await db.prisma.task.count({ where: { issueNumber: { gte: 1000, lt: 1100 } } })).toBe(max);
    const polite = replies.filter((body) => body.includes("commands per person"));
    expect(polite).toHaveLength(1);
    expect(polite[0]).toMatch(new RegExp(`^@busy-writer, Tasks takes at most ${max} commands per person every ${windowMs / minute} minutes`));
    expect(replies).toHaveLength(max + 1);

    // The window closes: the next command is acted on again.
    later(windowMs);
    await comment("/task", { issue: { number: 1100 }, sender: writer });
    expect(await db.prisma.task.count({ where: { issueNumber: 1100 } })).toBe(1);
    expect(scope.pendingMocks()).toEqual([]);
  });

  it("limits a repository's writers together, with one polite reply", async () => {
    startDay();
    const { max } = triggerLimits.perRepository;
    const writers = Array.from({ length: 5 }, (_, i) => ({ login: `writer-${i}`, id: 7100 + i }));
    const perWriter = Math.ceil((max + 10) / writers.length);
    expect(perWriter).toBeLessThanOrEqual(triggerLimits.perUser.max);
    const replies: string[] = [];
    nock("https://api.github.com")
      .persist()
      .post(/\/app\/installations\/\d+\/access_tokens/).reply(201, { token: "ghs_installation_token", expires_at: "2999-01-01T00:00:00Z" })
      .get(/\/collaborators\/writer-\d\/permission$/).reply(200, { permission: "write", role_name: "write" })
      .post(/\/issues\/comments\/\d+\/reactions$/).reply(201, { id: 1, content: "eyes" })
      .post(/\/issues\/\d+\/comments$/, (body: { body: string }) => (replies.push(body.body), true)).reply(201, { id: 556 });

    for (let round = 0; round < perWriter; round++) {
      for (const writer of writers) await comment("/task help", { issue: { number: 2000 }, sender: writer });
    }
    expect(replies.filter((body) => body.startsWith("**Tasks** commands"))).toHaveLength(max);
    expect(replies.filter((body) => body.includes("commands per repository"))).toEqual([
      expect.stringMatching(new RegExp(`^Tasks takes at most ${max} commands per repository every 10 minutes`)),
    ]);
    expect(replies).toHaveLength(max + 1);
  });
});
