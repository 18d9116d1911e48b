// The dashboard under /tasks: sign-in, the board, task pages with their actions, the event
// stream and the assets. Every page is scoped to the signed-in team; another team's task, like
// an unknown one, is a 404 page.
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../../lib/logger.ts";
import { AppError, isAppError } from "../../lib/errors.ts";
import type { DashboardReads } from "../../tasks/dashboard-reads.ts";
import type { SetupGap } from "../../tasks/setup-status.ts";
import type { TasksService } from "../../tasks/service.ts";
import { taskStatuses, type BoardStatus as TaskStatus } from "../../tasks/board-queries.ts";
import { slugPattern } from "../../tasks/team-prefix.ts";
import { clearSessionCookie, clearSignInNonce, requireViewer, setSessionCookie, setSignInNonce, signInNonce, type CookieSettings, type DashboardEnv } from "./access.ts";
import { serveAssets } from "./assets.ts";
import { boardPage } from "./board-page.ts";
import { streamChanges } from "./events-stream.ts";
import { formFields, sameOriginPosts, securityHeaders } from "./guards.ts";
import { messagePage } from "./layout.ts";
import { csrfToken, deriveSessionSecret, isAdminToken, newNonce, newSession, signSession, validCsrfToken } from "./session.ts";
import { signInPage } from "./sign-in-page.ts";
import { taskPage } from "./task-page.ts";

export interface DashboardDeps {
  tasks: Pick<TasksService, "verifyApiKey" | "approveTask" | "cancelTask" | "runTask">;
  reads: DashboardReads;
  adminToken: string;
  /** TASKS_PUBLIC_URL: decides Secure cookies and which Origin a form may come from. */
  publicUrl: string;
  /** What the server still needs before a task can run, shown on the board. */
  setupGaps?: readonly SetupGap[] | undefined;
  log: Logger;
  /** How often an event stream reads its change marker. */
  pollMs?: number | undefined;
}

const maxFormBytes = 16 * 1024;
const actions = { approve: "approveTask", cancel: "cancelTask", retry: "runTask" } as const;

function notFound(c: Context<DashboardEnv>) {
  return c.html(messagePage("Not found", "There is no such page or task here.", c.get("viewer")), 404);
}

export function createDashboardRoutes(deps: DashboardDeps) {
  const settings: CookieSettings = { secret: deriveSessionSecret(deps.adminToken), secure: deps.publicUrl.startsWith("https://") };
  const signedIn = requireViewer(deps.reads, settings);
  const app = new Hono<DashboardEnv>();

  app.onError((error, c) => {
    if (isAppError(error) && error.kind === "not_found") return notFound(c);
    if (isAppError(error)) return c.html(messagePage("Not possible", error.message, c.get("viewer")), error.status as 400);
    deps.log.error({ err: error, method: c.req.method, path: c.req.path }, "unhandled error in the dashboard");
    return c.html(messagePage("Something went wrong", "The error was logged; try again shortly."), 500);
  });
  app.use("/tasks", securityHeaders);
  app.use("/tasks/*", securityHeaders);
  app.use("/tasks/*", sameOriginPosts(deps.publicUrl));
  app.use("/tasks/*", bodyLimit({ maxSize: maxFormBytes, onError: (c) => c.html(messagePage("Refused", "The form is too large."), 413) }));
  serveAssets(app as unknown as Hono<never>);

  app.get("/tasks/sign-in", (c) => {
    const nonce = newNonce();
    setSignInNonce(c, settings, nonce);
    return c.html(signInPage(csrfToken(settings.secret, nonce)));
  });

  app.post("/tasks/sign-in", async (c) => {
    const fields = await formFields(c);
    const nonce = signInNonce(c, settings);
    if (!nonce || !validCsrfToken(settings.secret, nonce, fields["csrf"])) {
      return c.html(messagePage("Refused", "The sign-in form expired or did not come from this site; open it again."), 403);
    }
    const credential = (fields["credential"] ?? "").trim();
    const session = await sessionFor(deps, credential);
    if (!session) {
      const retry = newNonce();
      setSignInNonce(c, settings, retry);
      return c.html(signInPage(csrfToken(settings.secret, retry), "That is not a valid team API key or admin token."), 401);
    }
    clearSignInNonce(c, settings);
    setSessionCookie(c, settings, signSession(settings.secret, session));
    return c.redirect("/tasks", 303);
  });

  /** Form posts of a signed-in viewer: the CSRF token bound to the session, then the action. */
  const withCsrf = async (c: Context<DashboardEnv>) => {
    const fields = await formFields(c);
    const ok = validCsrfToken(settings.secret, c.get("viewer").session.nonce, fields["csrf"]);
    return ok ? fields : undefined;
  };
  const refused = (c: Context<DashboardEnv>) => c.html(messagePage("Refused", "The form's security token is missing or wrong; reload the page and try again.", c.get("viewer")), 403);

  app.post("/tasks/sign-out", signedIn, async (c) => {
    if (!(await withCsrf(c))) return refused(c);
    clearSessionCookie(c, settings);
    return c.redirect("/tasks/sign-in", 303);
  });

  app.post("/tasks/team", signedIn, async (c) => {
    const fields = await withCsrf(c);
    if (!fields) return refused(c);
    const viewer = c.get("viewer");
    if (viewer.kind !== "admin") return c.html(messagePage("Not allowed", "Only the operator can switch teams.", viewer), 403);
    const team = viewer.teams.find((candidate) => candidate.id === fields["team"]);
    if (!team) return c.html(messagePage("No such team", "Pick a team from the list.", viewer), 400);
    setSessionCookie(c, settings, signSession(settings.secret, { ...viewer.session, teamId: team.id }));
    return c.redirect("/tasks", 303);
  });

  app.get("/tasks", signedIn, async (c) => {
    const viewer = c.get("viewer");
    if (!viewer.team) return c.html(messagePage("No teams yet", "Create a team with `tasks team create <name>`, or install the GitHub App.", viewer));
    const status = c.req.query("status") || undefined;
    if (status && !taskStatuses.includes(status as TaskStatus)) {
      return c.html(messagePage("Unknown status", `Status must be one of: ${taskStatuses.join(", ")}.`, viewer), 400);
    }
    const filter = { status: status as TaskStatus | undefined, repository: c.req.query("repository") || undefined, originProduct: c.req.query("origin_product") || undefined };
    return c.html(boardPage(await deps.reads.board(viewer.team.id, filter), viewer, deps.setupGaps ?? []));
  });

  app.get("/tasks/events", signedIn, async (c) => {
    const team = c.get("viewer").team;
    if (!team) return c.text("no team", 404);
    const ref = c.req.query("task");
    const taskId = ref === undefined ? undefined : slugPattern.test(ref) ? await deps.reads.taskId(team.id, ref) : undefined;
    if (ref !== undefined && !taskId) return c.text("no such task", 404);
    return streamChanges(c, { reads: deps.reads, log: deps.log, pollMs: deps.pollMs ?? 1000 }, { teamId: team.id, taskId });
  });

  app.get("/tasks/:slug", signedIn, async (c) => {
    const viewer = c.get("viewer");
    const slug = c.req.param("slug");
    if (!viewer.team || !slugPattern.test(slug)) return notFound(c);
    return c.html(taskPage(await deps.reads.taskPage(viewer.team.id, slug), viewer));
  });

  app.post("/tasks/:slug/:action{approve|cancel|retry}", signedIn, async (c) => {
    const fields = await withCsrf(c);
    if (!fields) return refused(c);
    const viewer = c.get("viewer");
    const slug = c.req.param("slug");
    if (!viewer.team || !slugPattern.test(slug)) return notFound(c);
    const action = actions[c.req.param("action") as keyof typeof actions];
    try {
      // The same service calls, and so the same rules, as the API's approve, cancel and run.
      await deps.tasks[action](viewer.team.id, slug, viewer.actor);
    } catch (error) {
      if (!isAppError(error) || error.kind === "not_found") throw error;
      // Refused (already finished, not waiting, flag off): the page again, saying why.
      return c.html(taskPage(await deps.reads.taskPage(viewer.team.id, slug), viewer, error.message), error.status as 409);
    }
    return c.redirect(`/tasks/${slug.toUpperCase()}`, 303);
  });

  app.all("/tasks/*", signedIn, (c) => notFound(c));
  return app;
}

async function sessionFor(deps: DashboardDeps, credential: string) {
  if (!credential) return undefined;
  if (isAdminToken(deps.adminToken, credential)) return newSession("admin", null);
  try {
    const { teamId, keyId } = await deps.tasks.verifyApiKey(credential);
    return newSession("key", teamId, keyId);
  } catch (error) {
    if (error instanceof AppError && error.kind === "unauthorized") return undefined;
    throw error;
  }
}
