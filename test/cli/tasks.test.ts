// `tasks list`, `show` and `cancel` against a real server holding real tasks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminToken, client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";
import { parseJson, runCli, type CliResult } from "./run-cli.ts";

const taskKeys = [
  "id", "number", "slug", "title", "description", "status", "stage", "repository", "origin_product", "source",
  "issue_number", "workflow_id", "branch", "pr_url", "created_by", "created_at", "updated_at",
].sort();

interface Task {
  slug: string;
  status: string;
  stage: { key: string; name: string } | null;
}

type Seed = Awaited<ReturnType<typeof seedTeam>>;

async function createTask(server: TestServer, seed: Seed, title: string): Promise<Task> {
  const api = client(server.url, seed.apiKey);
  const body = { title, description: `About ${title}.\nSecond line.`, origin_product: "user_created", user_id: seed.userId, repository: seed.repository };
  const created = await api("POST", "/api/tasks", body);
  if (created.status !== 201) throw new Error(`create task: ${created.status} ${created.text}`);
  return created.body as Task;
}

describe("tasks CLI: tasks", () => {
  let server: TestServer;
  let posthog: Seed;
  let other: Seed;
  let tasks: (...args: string[]) => Promise<CliResult>;

  beforeAll(async () => {
    server = await startTestServer("pglite");
    [posthog, other] = await Promise.all([seedTeam(server.url, "PostHog"), seedTeam(server.url, "Other", { repository: "other/repo" })]);
    // One at a time, so the numbers (and the newest-first order) are known.
    for (const title of ["First task", "Second task", "Third task"]) await createTask(server, posthog, title);
    tasks = (...args) => runCli(["--url", server.url, ...args], { TASKS_ADMIN_TOKEN: adminToken });
  });
  afterAll(async () => server?.close());

  it("lists tasks as one JSON object and as an aligned table", async () => {
    const [json, text, filtered] = await Promise.all([
      tasks("list", "--team", "PostHog", "--json"),
      tasks("list", "--team", "PostHog"),
      tasks("list", "--team", "PostHog", "--status", "queued", "--stage", "plan", "--json"),
    ]);
    const page = parseJson<{ tasks: Task[]; next_cursor: string | null }>(json);
    expect(Object.keys(page).sort()).toEqual(["next_cursor", "tasks"]);
    expect(page.next_cursor).toBeNull();
    expect(page.tasks.map((task) => task.slug)).toEqual(["POS-3", "POS-2", "POS-1"]);
    expect(Object.keys(page.tasks[0]!).sort()).toEqual(taskKeys);
    expect(parseJson<{ tasks: Task[] }>(filtered).tasks).toHaveLength(3);

    const [header, ...rows] = text.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^SLUG\s+STATUS\s+STAGE\s+REPOSITORY\s+TITLE$/);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/^POS-1\s+queued\s+plan\s+posthog\/posthog\s+First task$/);
    for (const column of ["STATUS", "STAGE", "REPOSITORY", "TITLE"]) {
      const at = header!.indexOf(column);
      for (const row of rows) expect(row[at - 1], `${column} aligned in ${row}`).toBe(" ");
      for (const row of rows) expect(row[at], `${column} aligned in ${row}`).not.toBe(" ");
    }
  });

  it("pages with --limit and follows every cursor with --all", async () => {
    const [firstPage, firstPageText, all] = await Promise.all([
      tasks("list", "--team", "PostHog", "--limit", "2", "--json"),
      tasks("list", "--team", "PostHog", "--limit", "2"),
      tasks("list", "--team", "PostHog", "--limit", "2", "--all", "--json"),
    ]);
    const page = parseJson<{ tasks: Task[]; next_cursor: string | null }>(firstPage);
    expect(page.tasks.map((task) => task.slug)).toEqual(["POS-3", "POS-2"]);
    expect(page.next_cursor).toEqual(expect.any(String));
    expect(firstPage.stderr).toBe("");
    expect(firstPageText.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect(firstPageText.stderr).toContain("--all");

    const everything = parseJson<{ tasks: Task[]; next_cursor: string | null }>(all);
    expect(everything.tasks.map((task) => task.slug)).toEqual(["POS-3", "POS-2", "POS-1"]);
    expect(everything.next_cursor).toBeNull();
  });

  it("shows a task with its runs and events", async () => {
    const [json, text, missing] = await Promise.all([tasks("show", "POS-1", "--json"), tasks("show", "pos-1"), tasks("show", "POS-99")]);
    const task = parseJson<Task & { runs: { attempt: number; status: string }[]; events: { type: string }[] }>(json);
    expect(Object.keys(task).sort()).toEqual([...taskKeys, "events", "runs"].sort());
    expect(task).toMatchObject({ slug: "POS-1", title: "First task", status: "queued", stage: { key: "plan" } });
    expect(task.runs).toEqual([expect.objectContaining({ attempt: 1, status: "queued" })]);
    expect(task.events.map((event) => event.type)).toContain("task_created");

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^POS-1 {2}First task\n/);
    expect(text.stdout).toMatch(/^status\s+queued$/m);
    expect(text.stdout).toMatch(/^repository\s+posthog\/posthog$/m);
    expect(text.stdout).toContain("Description:\n  About First task.\n  Second line.\n");
    expect(text.stdout).toMatch(/Runs:\n\s+RUN\s+STATUS.*\n\s+#1\s+queued/);
    expect(text.stdout).toMatch(/Recent events \(\d+ of \d+\):\n.*task_created/);

    expect(missing).toMatchObject({ code: 1, stdout: "", stderr: 'tasks: no task "POS-99"\n' });
  });

  it("cancels a task, and refuses to cancel it twice", async () => {
    const [first, second] = [await createTask(server, other, "Cancel me"), await createTask(server, other, "Cancel me too")];
    const [json, text] = await Promise.all([tasks("cancel", first.slug, "--json"), tasks("cancel", second.slug)]);
    expect(parseJson<Task>(json)).toMatchObject({ slug: first.slug, status: "cancelled" });
    expect(Object.keys(parseJson(json)).sort()).toEqual(taskKeys);
    expect(text.stdout).toBe(`Cancelled ${second.slug} (Cancel me too): status cancelled\n`);

    const again = await tasks("cancel", first.slug, "--json");
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(JSON.parse(again.stderr)).toEqual({ error: { code: "task_finished", message: `${first.slug} is already cancelled` } });
  });

  it("prints hostile task text without terminal control sequences", async () => {
    await createTask(server, other, "Evil \u001b[2J\u001b]0;pwned\u0007 title");
    const result = await tasks("list", "--team", "Other");
    expect(result.stdout).toContain("Evil \uFFFD[2J\uFFFD]0;pwned\uFFFD title");
    for (const control of ["\u001b", "\u0007"]) expect(result.stdout).not.toContain(control);
  });
});
