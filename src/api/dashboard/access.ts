// Who is looking: the signed session cookie, checked on every request against the current state
// (a revoked key or a deleted team ends the session), and set, replaced or cleared here.
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { DashboardReads } from "../../tasks/dashboard-reads.ts";
import type { Viewer } from "./layout.ts";
import { csrfToken, sessionMaxAgeSeconds, verifySession, type Session } from "./session.ts";

export interface SignedInViewer extends Viewer {
  session: Session;
  /** Who acts, in the task's log: the same names the API uses. */
  actor: string;
}

export type DashboardEnv = { Variables: { viewer: SignedInViewer } };

export interface CookieSettings {
  secret: Buffer;
  /** Secure cookies (and the __Host- prefix) when the dashboard is served over https. */
  secure: boolean;
}

const sessionCookie = "tasks_session";
const signInCookie = "tasks_sign_in";

const cookieName = (settings: CookieSettings, name: string) => (settings.secure ? `__Host-${name}` : name);

function cookieOptions(settings: CookieSettings, maxAge: number) {
  return { httpOnly: true, sameSite: "Strict", secure: settings.secure, path: "/", maxAge } as const;
}

export function setSessionCookie(c: Context, settings: CookieSettings, value: string): void {
  setCookie(c, cookieName(settings, sessionCookie), value, cookieOptions(settings, sessionMaxAgeSeconds));
}

export function clearSessionCookie(c: Context, settings: CookieSettings): void {
  deleteCookie(c, cookieName(settings, sessionCookie), { path: "/", secure: settings.secure });
}

/** The sign-in form's CSRF nonce lives in its own short-lived cookie, as no session exists yet. */
export function setSignInNonce(c: Context, settings: CookieSettings, nonce: string): void {
  setCookie(c, cookieName(settings, signInCookie), nonce, cookieOptions(settings, 60 * 60));
}

export const signInNonce = (c: Context, settings: CookieSettings): string | undefined => getCookie(c, cookieName(settings, signInCookie));

export function clearSignInNonce(c: Context, settings: CookieSettings): void {
  deleteCookie(c, cookieName(settings, signInCookie), { path: "/", secure: settings.secure });
}

async function resolveViewer(reads: DashboardReads, settings: CookieSettings, session: Session): Promise<SignedInViewer | undefined> {
  const csrf = csrfToken(settings.secret, session.nonce);
  if (session.kind === "key") {
    // The key must still exist, unrevoked, in the team the session was made for.
    const teamId = await reads.activeKeyTeam(session.keyId!);
    const team = teamId && teamId === session.teamId ? await reads.team(teamId) : undefined;
    return team ? { kind: "key", team, teams: [], csrf, session, actor: `api-key:${session.keyId}` } : undefined;
  }
  const teams = await reads.teams();
  const team = teams.find((candidate) => candidate.id === session.teamId) ?? teams[0] ?? null;
  return { kind: "admin", team, teams, csrf, session, actor: "operator" };
}

/**
 * Pages need a valid session: without one the browser goes to the sign-in page (a bad or stale
 * cookie is cleared on the way); the event stream and form posts are answered 401.
 */
export function requireViewer(reads: DashboardReads, settings: CookieSettings): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const cookie = getCookie(c, cookieName(settings, sessionCookie));
    const session = verifySession(settings.secret, cookie);
    const viewer = session ? await resolveViewer(reads, settings, session) : undefined;
    if (!viewer) {
      if (cookie !== undefined) clearSessionCookie(c, settings);
      if (c.req.method === "GET" && c.req.path !== "/tasks/events") return c.redirect("/tasks/sign-in", 303);
      return c.text("sign in first: /tasks/sign-in", 401);
    }
    c.set("viewer", viewer);
    await next();
  };
}
