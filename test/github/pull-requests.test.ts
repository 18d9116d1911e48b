import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  maxPullRequestBodyChars,
  openOrReusePullRequest,
  readPullRequestTemplate,
  renderPullRequestBody,
} from "../../src/github/pull-requests.ts";
import { TestOctokit } from "../helpers/github.ts";
import { GitHubApiMock } from "./mock-more.ts";

const octokit = () => new TestOctokit({ auth: { token: "ghs_publish" } });
const branch = "tasks/pos-123-fix-login";
const request = { owner: "posthog", repo: "posthog", head: branch, base: "main", title: "POS-123: Fix login", body: "the body" };

describe("openOrReusePullRequest", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("opens a draft straight away when the task has no pull request: no listing first", async () => {
    const github = new GitHubApiMock().createPull(41);
    const result = await openOrReusePullRequest(octokit(), request);
    expect(result).toEqual({ number: 41, url: "https://github.com/posthog/posthog/pull/41", created: true, draft: true });
    expect(github.bodiesOf("create pull")).toStrictEqual([{ head: branch, base: "main", title: "POS-123: Fix login", body: "the body", draft: true }]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("updates the task's own pull request by its number, adding only the labels it lacks", async () => {
    const github = new GitHubApiMock().updatePullAnswering(40, { state: "open", labels: ["tasks"] }).addLabels(40);
    const result = await openOrReusePullRequest(octokit(), { ...request, body: "new body", labels: ["tasks", "bug"], existing: { number: 40, url: "https://github.com/posthog/posthog/pull/40" } });
    expect(result).toEqual({ number: 40, url: "https://github.com/posthog/posthog/pull/40", created: false, draft: true });
    expect(github.bodiesOf("update pull 40")).toStrictEqual([{ body: "new body" }]);
    expect(github.bodiesOf("labels 40")).toStrictEqual([{ labels: ["bug"] }]);
    expect(github.calls.map((call) => call.name)).not.toContain("create pull");
    expect(github.pending()).toStrictEqual([]);
  });

  it("opens a new pull request when the task's own was closed", async () => {
    const github = new GitHubApiMock().updatePullAnswering(40, { state: "closed" }).createPull(45);
    expect(await openOrReusePullRequest(octokit(), { ...request, existing: { number: 40, url: "https://github.com/posthog/posthog/pull/40" } })).toMatchObject({
      number: 45,
      created: true,
    });
    expect(github.pending()).toStrictEqual([]);
  });

  it("labels a new pull request, and opens it ready for review when asked", async () => {
    const github = new GitHubApiMock().createPull(42).addLabels(42);
    const result = await openOrReusePullRequest(octokit(), { ...request, draft: false, labels: ["tasks"] });
    expect(result).toMatchObject({ number: 42, created: true, draft: false });
    expect(github.bodiesOf("create pull")[0]).toMatchObject({ draft: false });
    expect(github.bodiesOf("labels 42")).toStrictEqual([{ labels: ["tasks"] }]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("converges when another attempt opened the pull request in between", async () => {
    const github = new GitHubApiMock()
      .createPullFails("Validation Failed", [{ message: `A pull request already exists for posthog:${branch}.` }])
      .listOpenPulls(branch, [{ number: 43 }])
      .updatePull(43);
    expect(await openOrReusePullRequest(octokit(), request)).toMatchObject({ number: 43, created: false });
    expect(github.pending()).toStrictEqual([]);
  });

  it("falls back to a ready pull request where drafts are not available", async () => {
    const github = new GitHubApiMock()
      .createPullFails("Validation Failed", [{ message: "Draft pull requests are not supported in this repository." }])
      .createPull(44);
    expect(await openOrReusePullRequest(octokit(), request)).toMatchObject({ number: 44, created: true, draft: false });
    expect(github.bodiesOf("create pull").map((body) => body["draft"])).toStrictEqual([true, false]);
    expect(github.pending()).toStrictEqual([]);
  });

  it("passes other validation failures on", async () => {
    const github = new GitHubApiMock().createPullFails("Validation Failed", [{ message: "No commits between main and " + branch }]);
    await expect(openOrReusePullRequest(octokit(), request)).rejects.toMatchObject({ status: 422 });
    expect(github.pending()).toStrictEqual([]);
  });
});

describe("readPullRequestTemplate", () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it("tries GitHub's template locations in order, past 404s", async () => {
    const github = new GitHubApiMock()
      .contents(".github/pull_request_template.md", "main", 404)
      .contents(".github/PULL_REQUEST_TEMPLATE.md", "main", 404)
      .contents("pull_request_template.md", "main", "## Checklist\n- [ ] tests\n");
    expect(await readPullRequestTemplate(octokit(), { owner: "posthog", repo: "posthog", ref: "main" })).toBe("## Checklist\n- [ ] tests\n");
    expect(github.pending()).toStrictEqual([]);
  });

  it("returns null when the repository has none", async () => {
    const github = new GitHubApiMock()
      .contents(".github/pull_request_template.md", "abc123", 404)
      .contents(".github/PULL_REQUEST_TEMPLATE.md", "abc123", 404)
      .contents("pull_request_template.md", "abc123", 404)
      .contents("docs/pull_request_template.md", "abc123", 404);
    expect(await readPullRequestTemplate(octokit(), { owner: "posthog", repo: "posthog", ref: "abc123" })).toBeNull();
    expect(github.pending()).toStrictEqual([]);
  });

  it("does not mistake a server error for a missing template", async () => {
    const github = new GitHubApiMock().contents(".github/pull_request_template.md", "main", 500);
    await expect(readPullRequestTemplate(octokit(), { owner: "posthog", repo: "posthog", ref: "main" })).rejects.toMatchObject({ status: 500 });
    expect(github.pending()).toStrictEqual([]);
  });
});

describe("renderPullRequestBody", () => {
  const base = { summary: "Fixed the redirect.", taskUrl: "https://tasks.example.com/api/tasks/t1", slug: "POS-123" };

  it("has the sections, Closes #N, the task link, and the repository's template below", () => {
    const body = renderPullRequestBody({ ...base, plan: "1. Look\n2. Fix", reviewNotes: "Looks right.", issueNumber: 7, template: "## Checklist\n- [ ] tests" });
    expect(body).toBe(
      [
        "<!-- tasks:pull-request POS-123 -->",
        "",
        "## Summary",
        "",
        "Fixed the redirect.",
        "",
        "## Plan",
        "",
        "<details>",
        "<summary>The plan the agent followed</summary>",
        "",
        "1. Look",
        "2. Fix",
        "",
        "</details>",
        "",
        "## Review notes",
        "",
        "Looks right.",
        "",
        "## From the repository's pull request template",
        "",
        "## Checklist",
        "- [ ] tests",
        "",
        "---",
        "Closes #7",
        "Opened by Tasks for [POS-123](https://tasks.example.com/api/tasks/t1).",
      ].join("\n"),
    );
  });

  it("leaves out what it does not have", () => {
    const body = renderPullRequestBody({ ...base, plan: null, reviewNotes: "  ", issueNumber: null, template: null });
    expect(body).not.toMatch(/Closes|## Plan|## Review notes|template/);
    expect(body).toContain("[POS-123](https://tasks.example.com/api/tasks/t1)");
  });

  it("fits GitHub's limit and keeps Closes #N and the link when the text is huge", () => {
    const body = renderPullRequestBody({ ...base, plan: "Ran:\n```\n" + "log line\n".repeat(20_000) + "```", issueNumber: 7 });
    expect(body.length).toBeLessThanOrEqual(maxPullRequestBodyChars);
    expect(body).toMatch(/\n… \(truncated: \d+ characters omitted\)\n/);
    expect(body.endsWith("---\nCloses #7\nOpened by Tasks for [POS-123](https://tasks.example.com/api/tasks/t1).")).toBe(true);
    // The cut fell inside the plan's code fence, which is closed again.
    expect((body.match(/^```/gm) ?? []).length % 2).toBe(0);
  });
});

describe("closing keywords in agent text", () => {
  it("only the footer closes an issue", async () => {
    const { renderPullRequestBody, defuseClosingKeywords } = await import("../../src/github/pull-request-body.ts");
    expect(defuseClosingKeywords("This fixes #12 and Closes: other/repo#3; see #4")).toBe("This fixes `#12` and Closes: `other/repo#3`; see #4");
    const body = renderPullRequestBody({ summary: "Resolves #999", plan: "closes #1", reviewNotes: "FIXED #2", issueNumber: 7, taskUrl: "https://t/x", slug: "POS-1" });
    expect(body.match(/\b(close[sd]?|fix(e[sd])?|resolve[sd]?):?\s+#\d+/gi)).toEqual(["Closes #7"]);
  });
});
