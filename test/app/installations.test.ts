// The installation lifecycle: created → repositories added/removed → suspend (cancels active
// tasks) → unsuspend → deleted, each through a signed delivery into the real server.
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { installationEvent, installationRepositories, issuesLabeled } from "../fixtures/webhooks.ts";
import { testDatabases } from "../helpers/databases.ts";
import { allowOnlyLocalhost, deliver, GitHubMock, githubAppEnv, TestOctokit } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import type { RecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

describe.each(testDatabases)("installation lifecycle on %s", (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    allowOnlyLocalhost();
    server = await startTestServer(kind, { env: githubAppEnv, Octokit: TestOctokit });
  });
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    await server?.close();
    nock.enableNetConnect();
  });

  async function send(event: string, payload: unknown) {
    expect((await deliver(server.url, { event, payload })).status).toBe(202);
    await server.webhooksIdle();
  }
  const integration = () => server.db.prisma.gitHubIntegration.findUniqueOrThrow({ where: { installationId: 777n }, include: { team: true } });

  it("follows an installation from creation to deletion", async () => {
    await send("installation", installationEvent("created", { installationId: 777, account: "Acme-Corp", repositories: ["Acme-Corp/Web", "Acme-Corp/api"] }));
    const linked = await integration();
    expect(linked.team).toMatchObject({ name: "Acme-Corp", prefix: "ACM" });
    expect(linked.repositories).toEqual(["acme-corp/api", "acme-corp/web"]);
    expect(linked.suspended).toBe(false);

    // A redelivered "created" with a new id does not make a second team.
    await send("installation", installationEvent("created", { installationId: 777, account: "Acme-Corp", repositories: ["Acme-Corp/Web", "Acme-Corp/api"] }));
    expect(await server.db.prisma.team.count({ where: { name: "Acme-Corp" } })).toBe(1);

    await send("installation_repositories", installationRepositories("added", ["Acme-Corp/docs"], 777));
    await send("installation_repositories", installationRepositories("removed", ["Acme-Corp/api"], 777));
    expect((await integration()).repositories).toEqual(["acme-corp/docs", "acme-corp/web"]);

    // A trigger from a removed repository is ignored without calling GitHub.
    await send("issues", issuesLabeled("task", { owner: "Acme-Corp", repo: "api", installationId: 777 }));
    expect(await server.db.prisma.task.count({ where: { repository: "Acme-Corp/api" } })).toBe(0);

    const github = new GitHubMock("Acme-Corp", "Web", undefined, 777).permission("octocat", "write").issueReaction().listComments().createComment();
    await send("issues", issuesLabeled("task", { owner: "Acme-Corp", repo: "Web", installationId: 777 }));
    const task = await server.db.prisma.task.findFirstOrThrow({ where: { repository: "Acme-Corp/Web" } });
    expect(task.slug).toBe("ACM-1");
    expect(github.pending()).toEqual([]);

    await send("installation", installationEvent("suspend", { installationId: 777, account: "Acme-Corp" }));
    expect((await integration()).suspended).toBe(true);
    const cancelled = await server.db.prisma.task.findUniqueOrThrow({ where: { id: task.id }, include: { runs: true, events: true } });
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.runs.map((r) => r.status)).toEqual(["cancelled"]);
    expect(cancelled.events.map((e) => e.message)).toContain("cancelled: the GitHub App installation was suspended");
    expect((server.orchestrator as RecordingOrchestrator).cancelled.map((r) => r.taskId)).toContain(task.id);

    // Suspended: triggers are ignored.
    await send("issues", issuesLabeled("task", { owner: "Acme-Corp", repo: "Web", installationId: 777, issue: { number: 8 } }));
    expect(await server.db.prisma.task.count({ where: { repository: "Acme-Corp/Web" } })).toBe(1);

    await send("installation", installationEvent("unsuspend", { installationId: 777, account: "Acme-Corp" }));
    expect((await integration()).suspended).toBe(false);

    await send("installation", installationEvent("deleted", { installationId: 777, account: "Acme-Corp" }));
    expect((await integration()).suspended).toBe(true);
  });

  it("links an installation to an existing team of the account's name", async () => {
    const team = await server.tasks.createTeam("existing-org");
    await send("installation", installationEvent("created", { installationId: 778, account: "existing-org", repositories: ["existing-org/app"] }));
    const linked = await server.db.prisma.gitHubIntegration.findUniqueOrThrow({ where: { installationId: 778n } });
    expect(linked.teamId).toBe(team.id);
  });
});
