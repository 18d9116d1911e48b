// The dashboard in a real headless Chromium (Debian's, driven by playwright-core; never a
// downloaded browser) against the real server running the pipeline with a scripted `command`
// agent in the local sandbox: the board moves live, the log grows, cancel and approve work,
// a team key sees nothing of another team, and the pages fit a 375 px screen. It also writes
// the README's screenshots to docs/screenshots/.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import nock from "nock";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { issuesLabeled } from "../fixtures/webhooks.ts";
import { createWorld, destroyWorld, waitForRun, type World } from "../e2e/world.ts";
import { deliver } from "../helpers/github.ts";
import { adminToken, client, seedTeam } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";

const chromiumPath = "/usr/bin/chromium";
const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const screenshots = path.resolve("docs/screenshots");

// Each role says what it does, then (planner, coder) waits for the test to drop go-<role> beside
// its prompt, so the test decides when the task moves on. Bounded, so a broken test cannot hang it.
const scriptedAgent = `set -eu
scratch=$(dirname "$TASK_PROMPT_FILE")
say() { echo "$TASK_ROLE: $1"; }
wait_for() { i=0; while [ ! -e "$scratch/$1" ]; do i=$((i + 1)); [ "$i" -lt 6000 ] || exit 3; sleep 0.05; done; }
case "$TASK_ROLE" in
  planner)
    say "reading the issue and the repository"
    wait_for go-planner
    say "writing the plan"
    printf 'Plan for %s\\n\\n1. Add a dark mode note to the README.\\n2. Mention the settings page.\\n' "$TASK_SLUG" > "$TASK_OUTPUT_FILE"
    ;;
  coder)
    say "editing README.md"
    wait_for go-coder
    printf '\\nDark mode is available in settings.\\n' >> README.md
    say "README.md updated"
    printf 'Added a dark mode note to the README.\\n' > "$TASK_OUTPUT_FILE"
    ;;
  reviewer)
    say "reviewing the change"
    printf 'APPROVE\\nThe note is accurate and short.\\n' > "$TASK_OUTPUT_FILE"
    ;;
esac
`;

describe("the dashboard in Chromium", () => {
  let world: World;
  let browser: Browser;
  let teamKey: string;
  let teamId: string;
  /** Script errors and refused resources (a CSP violation among them) on any page; a 404 asked for is not one. */
  const browserErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(`Chromium is missing at ${chromiumPath}: install Debian's chromium package (.ci/run does). The browser tests never download a browser.`);
    }
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
    world = await createWorld({ env: { TASKS_AGENT: "command", TASKS_AGENT_COMMAND: scriptedAgent } });
    const admin = client(world.server.url, adminToken);
    const key = await admin("POST", "/api/admin/teams/posthog/api-keys", { name: "browser" });
    expect(key.status, key.text).toBe(201);
    teamKey = key.body.key;
    teamId = (await world.server.db.prisma.team.findFirstOrThrow({ where: { name: "posthog" } })).id;
    await mkdir(screenshots, { recursive: true });
  }, 120_000);

  afterEach(() => {
    expect(browserErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await destroyWorld(world);
    nock.cleanAll();
    nock.enableNetConnect();
  });

  async function signedIn(credential: string, viewport = { width: 1280, height: 800 }, initScript?: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport });
    if (initScript) await context.addInitScript(initScript);
    const page = await context.newPage();
    page.on("pageerror", (error) => browserErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource: the server responded with a status of 404")) browserErrors.push(message.text());
    });
    await page.goto(`${world.server.url}/tasks`);
    expect(new URL(page.url()).pathname).toBe("/tasks/sign-in");
    await page.getByLabel("Team API key or admin token").fill(credential);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${world.server.url}/tasks`);
    return { context, page };
  }

  /** Labels an issue `task`; the task it made. */
  async function labelIssue(issue: number, title: string) {
    const res = await deliver(world.server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: issue, title } }) });
    expect(res.status).toBe(202);
    await world.server.webhooksIdle();
    return world.server.db.prisma.task.findFirstOrThrow({ where: { issueNumber: issue } });
  }

  /** Lets the waiting agent of this task's run go on (the local sandbox's scratch directory). */
  async function release(title: string, role: "planner" | "coder"): Promise<void> {
    const root = path.join(world.server.dataDir, "workspaces");
    let scratch: string | undefined;
    await waitFor(async () => {
      const dirs = existsSync(root) ? readdirSync(root).map((id) => path.join(root, id, "scratch")) : [];
      scratch = dirs.find((dir) => existsSync(path.join(dir, "prompt.md")) && readFileSync(path.join(dir, "prompt.md"), "utf8").includes(title));
      return scratch !== undefined;
    }, `the ${role} of "${title}"`, 60_000);
    await writeFile(path.join(scratch!, `go-${role}`), "");
  }

  const column = (page: Page, name: string) => page.locator("section.column").filter({ has: page.getByRole("heading", { name: new RegExp(`^${name}\\b`) }) });

  it("moves a task between columns live and grows its log while the pipeline runs", { timeout: 180_000 }, async () => {
    const { context, page } = await signedIn(teamKey);
    const title = "Dark mode for the settings page";
    const task = await labelIssue(7, title);
    // A mark on the window: had anything reloaded the page, it would be gone.
    await page.evaluate("window.notReloaded = true");
    await expect.poll(() => column(page, "Plan").locator(`li[data-slug="${task.slug}"]`).count(), { timeout: 60_000 }).toBe(1);

    await release(title, "planner");
    await expect.poll(() => column(page, "Code").locator(`li[data-slug="${task.slug}"]`).count(), { timeout: 60_000 }).toBe(1);
    expect(await column(page, "Plan").locator(`li[data-slug="${task.slug}"]`).count()).toBe(0);
    expect(await page.getAttribute("body", "data-live-state")).toBe("streaming");
    expect(await page.evaluate("window.notReloaded")).toBe(true);

    await page.getByRole("link", { name: new RegExp(task.slug) }).click();
    await page.waitForURL(`${world.server.url}/tasks/${task.slug}`);
    await page.evaluate("window.notReloaded = true");
    const log = page.locator("#log > li");
    await expect.poll(() => page.locator("#log").innerText(), { timeout: 60_000 }).toContain("coder: editing README.md");
    const before = await log.count();
    await expect.poll(() => page.locator("#plan").innerText()).toContain(`Plan for ${task.slug}`);

    await release(title, "coder");
    await expect.poll(() => page.locator("#task-status").innerText(), { timeout: 90_000 }).toBe("completed");
    await expect.poll(() => page.locator("#log").innerText(), { timeout: 30_000 }).toMatch(/run completed/i);
    expect(await page.locator("#log").innerText()).toContain("reviewer: reviewing the change");
    expect(await log.count()).toBeGreaterThan(before);
    expect(await page.evaluate("window.notReloaded")).toBe(true);
    expect(await page.locator("#review").innerText()).toContain("The note is accurate and short.");
    expect(await page.locator("#runs").innerText()).toMatch(/Run 1\s*·\s*completed/);
    const pr = (await waitForRun(world, task.id)).pr_url!;
    expect(await page.getByRole("link", { name: pr }).getAttribute("href")).toBe(pr);

    // GitHub's links lead here: the check runs' details and the tracking comment.
    const pageUrl = `/tasks/${task.slug}`;
    const checkRuns = world.github.callsTo("POST", /\/check-runs$/).map((call) => String(call.body["details_url"]));
    expect(checkRuns.length).toBeGreaterThan(0);
    for (const url of checkRuns) expect(new URL(url).pathname).toBe(pageUrl);
    expect(world.github.comments.get(7)!.map((c) => c.body).join("\n")).toContain(`${pageUrl})`);

    await page.screenshot({ path: path.join(screenshots, "task-page.png"), fullPage: true });
    await context.close();
  });

  it("cancels a running task from its page and shows the outcome", { timeout: 120_000 }, async () => {
    const { context, page } = await signedIn(teamKey);
    const title = "Cancel me while planning";
    const task = await labelIssue(8, title);
    await page.goto(`${world.server.url}/tasks/${task.slug}`);
    await expect.poll(() => page.locator("#log").innerText(), { timeout: 60_000 }).toContain("planner: reading the issue");
    await page.getByRole("button", { name: "Cancel task" }).click();
    await page.waitForURL(`${world.server.url}/tasks/${task.slug}`);
    await expect.poll(() => page.locator("#task-status").innerText()).toBe("cancelled");
    await expect.poll(() => page.locator("#runs").innerText(), { timeout: 60_000 }).toMatch(/Run 1\s*·\s*cancelled/);
    expect(await page.getByRole("button", { name: "Cancel task" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Retry" }).count()).toBe(1);
    expect(await page.locator("#log").innerText()).toContain("cancelled by api-key:");
    await context.close();
  });

  it("approves a task that waits for approval after its plan", { timeout: 180_000 }, async () => {
    const workflowId = (await world.server.db.prisma.team.findUniqueOrThrow({ where: { id: teamId } })).defaultWorkflowId!;
    await world.server.db.prisma.stage.updateMany({ where: { workflowId, key: "plan" }, data: { requiresApproval: true } });
    try {
      const { context, page } = await signedIn(teamKey);
      const title = "Approve the plan first";
      const task = await labelIssue(9, title);
      await page.goto(`${world.server.url}/tasks/${task.slug}`);
      await release(title, "planner");
      // The Approve button arrives live, once the plan is written and the task waits.
      await expect.poll(() => page.getByRole("button", { name: "Approve" }).count(), { timeout: 60_000 }).toBe(1);
      expect(await page.locator("#task-status").innerText()).toBe("waiting approval");
      expect(await page.locator("#timeline").innerText()).toContain("needs approval");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.waitForURL(`${world.server.url}/tasks/${task.slug}`);
      await expect.poll(() => page.locator("#timeline li[aria-current=step] .stage-name").innerText(), { timeout: 60_000 }).toBe("Code");
      expect(await page.locator("#log").innerText()).toContain("Plan approved by api-key:");
      await release(title, "coder");
      await expect.poll(() => page.locator("#task-status").innerText(), { timeout: 90_000 }).toBe("completed");
      await context.close();
    } finally {
      await world.server.db.prisma.stage.updateMany({ where: { workflowId, key: "plan" }, data: { requiresApproval: false } });
    }
  });

  it("falls back to polling where there is no EventSource", { timeout: 120_000 }, async () => {
    const { context, page } = await signedIn(teamKey, undefined, "delete window.EventSource");
    const task = await labelIssue(12, "Polled without an event stream");
    await expect.poll(() => column(page, "Plan").locator(`li[data-slug="${task.slug}"]`).count(), { timeout: 60_000 }).toBe(1);
    expect((await client(world.server.url, adminToken)("POST", `/api/admin/tasks/${task.id}/cancel`)).status).toBe(200);
    await expect.poll(() => page.locator(`li[data-slug="${task.slug}"] .status`).innerText(), { timeout: 60_000 }).toBe("cancelled");
    expect(await page.getAttribute("body", "data-live-state")).toBeNull();
    await context.close();
  });

  it("shows a team key none of another team's tasks: board, page and event stream", { timeout: 60_000 }, async () => {
    const other = await seedTeam(world.server.url, "Outsiders", { userId: "o1", repository: "out/app", installationId: 424242 });
    const otherTeam = await world.server.db.prisma.team.findUniqueOrThrow({ where: { id: other.team.id }, include: { defaultWorkflow: { include: { stages: { orderBy: { position: "asc" }, take: 1 } } } } });
    await world.server.db.prisma.task.create({
      data: { teamId: other.team.id, number: 1, slug: "OUT-1", title: "Outsiders secret roadmap", description: "", originProduct: "user_created", repository: "out/app", workflowId: otherTeam.defaultWorkflowId!, currentStageId: otherTeam.defaultWorkflow!.stages[0]!.id },
    });

    const { context, page } = await signedIn(teamKey);
    const board = await page.locator("main").innerText();
    expect(board).not.toContain("OUT-1");
    expect(board).not.toContain("Outsiders");
    const response = await page.goto(`${world.server.url}/tasks/OUT-1`);
    expect(response!.status()).toBe(404);
    expect(await page.locator("main").innerText()).not.toContain("secret roadmap");
    await page.goto(`${world.server.url}/tasks`);
    const stream = await page.evaluate(async () => (await fetch("/tasks/events?task=OUT-1")).status);
    expect(stream).toBe(404);
    await context.close();

    // Their own key shows them their task, and none of ours.
    const theirs = await signedIn(other.apiKey);
    const theirBoard = await theirs.page.locator("main").innerText();
    expect(theirBoard).toContain("OUT-1");
    expect(theirBoard).not.toContain("Dark mode for the settings page");
    await theirs.context.close();
  });

  it("fits a 375 px screen and can be used from the keyboard", { timeout: 150_000 }, async () => {
    const { context, page } = await signedIn(teamKey, { width: 375, height: 740 });
    const slug = (await world.server.db.prisma.task.findFirstOrThrow({ where: { issueNumber: 7 } })).slug;
    for (const url of ["/tasks", `/tasks/${slug}`, "/tasks/sign-in"]) {
      await page.goto(`${world.server.url}${url}`);
      // Browser-side expressions as strings: the test compiles without the DOM library.
      const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
      expect(width, url).toBeLessThanOrEqual(375);
    }
    await page.goto(`${world.server.url}/tasks`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement.textContent")).toBe("Skip to content");
    // Every control has an accessible name.
    const unnamed = await page.evaluate(`Array.from(document.querySelectorAll("select, input:not([type=hidden]), button"))
      .filter((el) => !el.innerText.trim() && !(el.id && document.querySelector('label[for="' + el.id + '"]')) && !el.getAttribute("aria-label")).length`);
    expect(unnamed).toBe(0);
    // Filters work from the keyboard too: choose a status and submit.
    await page.getByLabel("Status").selectOption("completed");
    await page.getByRole("button", { name: "Filter" }).press("Enter");
    await page.waitForURL(/status=completed/);
    expect(await page.locator(`li[data-slug="${slug}"]`).count()).toBe(1);
    await context.close();

    // The board at the README's size: the tasks of the tests before, one coding and one planning.
    const coding = await labelIssue(10, "Retry the flaky checkout test");
    await release("Retry the flaky checkout test", "planner");
    const planning = await labelIssue(11, "Show token usage per run");
    const wide = await signedIn(teamKey);
    await expect.poll(() => column(wide.page, "Code").locator(`li[data-slug="${coding.slug}"]`).count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => column(wide.page, "Plan").locator(`li[data-slug="${planning.slug}"]`).count(), { timeout: 60_000 }).toBe(1);
    await wide.page.screenshot({ path: path.join(screenshots, "board.png") });
    await wide.context.close();
    const admin = client(world.server.url, adminToken);
    for (const task of [coding, planning]) expect((await admin("POST", `/api/admin/tasks/${task.id}/cancel`)).status).toBe(200);
  });
});
