// The dashboard's access rules over real HTTP: sign-in with a team key or the admin token, the
// session cookie's flags, forged and stale cookies, CSRF refusals and the operator's team switch.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../helpers/databases.ts";
import { csrfOf, get, openStream, post, signIn } from "../helpers/dashboard.ts";
import { adminToken, client, seedTeam, startTestServer, type TestServer } from "../helpers/server.ts";

describe.each(testDatabases)("dashboard access on %s", (kind) => {
  let server: TestServer;
  let alpha: Awaited<ReturnType<typeof seedTeam>>;
  let beta: Awaited<ReturnType<typeof seedTeam>>;
  let alphaTask: { id: string; slug: string };
  let betaTask: { id: string; slug: string };

  const createTask = async (seed: typeof alpha, title: string) => {
    const res = await client(server.url, seed.apiKey)("POST", "/api/tasks", { title, description: "d", origin_product: "user_created", user_id: seed.userId, repository: seed.repository });
    expect(res.status).toBe(201);
    return res.body as { id: string; slug: string };
  };
  const taskStatus = async (seed: typeof alpha, id: string) => (await client(server.url, seed.apiKey)("GET", `/api/tasks/${id}`)).body.status as string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    alpha = await seedTeam(server.url, "PostHog", { userId: "a1", repository: "posthog/posthog" });
    beta = await seedTeam(server.url, "Beta Team", { userId: "b1", repository: "beta/app" });
    alphaTask = await createTask(alpha, "Alpha dark mode");
    betaTask = await createTask(beta, "Beta secret project");
  });
  afterAll(async () => server?.close());

  it("sends a visitor without a session to the sign-in page, and refuses the event stream", async () => {
    for (const path of ["/tasks", `/tasks/${alphaTask.slug}`, "/tasks/anything/else"]) {
      const res = await get(server.url, path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe("/tasks/sign-in");
    }
    expect((await get(server.url, "/tasks/events")).status).toBe(401);
    const form = await get(server.url, "/tasks/sign-in");
    expect(form.status).toBe(200);
    expect(form.text).toContain('<label for="credential">');
  });

  it("signs in with a team key into an HttpOnly, SameSite=Strict session cookie, not Secure over http", async () => {
    const form = await fetch(`${server.url}/tasks/sign-in`);
    const nonce = form.headers.getSetCookie()[0]!;
    expect(nonce).toMatch(/HttpOnly/);
    expect(nonce).toMatch(/SameSite=Strict/);
    const res = await post(server.url, "/tasks/sign-in", { csrf: csrfOf(await form.text()), credential: alpha.apiKey }, { cookie: nonce.split(";")[0]! });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/tasks");
    const session = res.setCookies.find((line) => line.startsWith("tasks_session="))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Path=\//);
    expect(session).not.toMatch(/Secure/);
    // The cookie names the key by id; the key itself is never in it.
    expect(decodeURIComponent(session)).not.toContain(alpha.apiKey.split("_")[2]!);
    const board = await get(server.url, "/tasks", session.split(";")[0]);
    expect(board.status).toBe(200);
    expect(board.text).toContain(alphaTask.slug);
  });

  it("answers a wrong key or token with the sign-in page and no session", async () => {
    for (const credential of ["tsk_AAAAAAAAAAAA_" + "a".repeat(43), "not a key", adminToken + "x", ""]) {
      const form = await fetch(`${server.url}/tasks/sign-in`);
      const res = await post(server.url, "/tasks/sign-in", { csrf: csrfOf(await form.text()), credential }, { cookie: form.headers.getSetCookie()[0]!.split(";")[0]! });
      expect(res.status, credential).toBe(401);
      expect(res.text).toContain("not a valid team API key or admin token");
      expect(res.setCookies.some((line) => line.startsWith("tasks_session="))).toBe(false);
    }
  });

  it("refuses a sign-in post without the form's nonce cookie or from another site", async () => {
    const form = await fetch(`${server.url}/tasks/sign-in`);
    const csrf = csrfOf(await form.text());
    const nonce = form.headers.getSetCookie()[0]!.split(";")[0]!;
    expect((await post(server.url, "/tasks/sign-in", { csrf, credential: alpha.apiKey })).status).toBe(403);
    expect((await post(server.url, "/tasks/sign-in", { csrf: "forged", credential: alpha.apiKey }, { cookie: nonce })).status).toBe(403);
    const crossSite = await post(server.url, "/tasks/sign-in", { csrf, credential: alpha.apiKey }, { cookie: nonce, headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.setCookies.some((line) => line.startsWith("tasks_session="))).toBe(false);
  });

  it("treats a forged, edited or foreign cookie as no session, and clears it", async () => {
    const { cookie } = await signIn(server.url, alpha.apiKey);
    const [payload, signature] = cookie.slice("tasks_session=".length).split(".");
    const session = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
    // The same signature on a payload that claims team beta.
    const edited = Buffer.from(JSON.stringify({ ...session, teamId: beta.team.id })).toString("base64url");
    const adminClaim = Buffer.from(JSON.stringify({ ...session, kind: "admin" })).toString("base64url");
    for (const value of [`${edited}.${signature}`, `${adminClaim}.${signature}`, `${payload}.${"A".repeat(43)}`, `${payload}`, "garbage", `${payload}.${signature}.x`]) {
      const res = await get(server.url, "/tasks", `tasks_session=${value}`);
      expect(res.status, value).toBe(303);
      expect(res.headers.get("location")).toBe("/tasks/sign-in");
      expect(res.setCookies.join("\n")).toMatch(/tasks_session=;/);
      expect((await get(server.url, "/tasks/events", `tasks_session=${value}`)).status).toBe(401);
    }
  });

  it("refuses form posts without the session's CSRF token, with another session's, or from another site", async () => {
    const mine = await signIn(server.url, alpha.apiKey);
    const other = await signIn(server.url, alpha.apiKey);
    const cancel = `/tasks/${alphaTask.slug}/cancel`;
    const cases: [string, Record<string, string>, Record<string, string>][] = [
      ["no token", {}, {}],
      ["another session's token", { csrf: other.csrf }, {}],
      ["cross-site Sec-Fetch-Site", { csrf: mine.csrf }, { "sec-fetch-site": "cross-site" }],
      ["same-site Sec-Fetch-Site", { csrf: mine.csrf }, { "sec-fetch-site": "same-site" }],
      ["a foreign Origin", { csrf: mine.csrf }, { origin: "https://evil.example", "sec-fetch-site": "" }],
      ["a null Origin", { csrf: mine.csrf }, { origin: "null" }],
    ];
    for (const [name, fields, headers] of cases) {
      const cleaned = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== ""));
      const res = await fetch(`${server.url}${cancel}`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: mine.cookie, origin: server.url, "sec-fetch-site": "same-origin", ...cleaned },
        body: new URLSearchParams(fields).toString(),
      });
      expect(res.status, name).toBe(403);
    }
    // A JSON body (what a cross-site fetch could send without a preflight is form-encoded; this is not a form) is refused too.
    const json = await fetch(`${server.url}${cancel}`, { method: "POST", redirect: "manual", headers: { "content-type": "application/json", cookie: mine.cookie }, body: JSON.stringify({ csrf: mine.csrf }) });
    expect(json.status).toBe(415);
    expect(await taskStatus(alpha, alphaTask.id)).toBe("queued");
    // The same post with the right token from this site goes through.
    const ok = await post(server.url, cancel, { csrf: mine.csrf }, { cookie: mine.cookie });
    expect(ok.status).toBe(303);
    expect(await taskStatus(alpha, alphaTask.id)).toBe("cancelled");
  });

  it("signs out: the cookie is cleared", async () => {
    const mine = await signIn(server.url, alpha.apiKey);
    const res = await post(server.url, "/tasks/sign-out", { csrf: mine.csrf }, { cookie: mine.cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/tasks/sign-in");
    expect(res.setCookies.join("\n")).toMatch(/tasks_session=;.*Max-Age=0/);
  });

  it("lets the operator switch teams, and only the operator", async () => {
    const admin = await signIn(server.url, adminToken);
    const board = await get(server.url, "/tasks", admin.cookie);
    expect(board.text).toContain('<select id="team-select" name="team">');
    expect(board.text).toContain(alphaTask.slug);
    expect(board.text).not.toContain(betaTask.slug);
    const switched = await post(server.url, "/tasks/team", { csrf: admin.csrf, team: beta.team.id }, { cookie: admin.cookie });
    expect(switched.status).toBe(303);
    const betaCookie = switched.setCookies.find((line) => line.startsWith("tasks_session="))!.split(";")[0]!;
    const betaBoard = await get(server.url, "/tasks", betaCookie);
    expect(betaBoard.text).toContain(betaTask.slug);
    expect(betaBoard.text).not.toContain(alphaTask.slug);
    expect((await get(server.url, `/tasks/${betaTask.slug}`, betaCookie)).status).toBe(200);
    expect((await post(server.url, "/tasks/team", { csrf: admin.csrf, team: "00000000-0000-4000-8000-000000000000" }, { cookie: admin.cookie })).status).toBe(400);

    const member = await signIn(server.url, alpha.apiKey);
    const refused = await post(server.url, "/tasks/team", { csrf: member.csrf, team: beta.team.id }, { cookie: member.cookie });
    expect(refused.status).toBe(403);
    expect(refused.setCookies).toEqual([]);
  });

  it("serves every page with a strict Content-Security-Policy and no framing", async () => {
    const mine = await signIn(server.url, alpha.apiKey);
    for (const path of ["/tasks", `/tasks/${alphaTask.slug}`, "/tasks/sign-in", "/tasks/POS-99999"]) {
      const res = await get(server.url, path, mine.cookie);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.text).not.toMatch(/<script>|<style>| on[a-z]+="/);
    }
    const script = await get(server.url, "/tasks/assets/dashboard.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
  });

  it("marks the cookie Secure (with the __Host- prefix) when the public URL is https", async () => {
    const secure = await startTestServer("pglite", { env: { TASKS_PUBLIC_URL: "https://tasks.example.com" } });
    try {
      const seed = await seedTeam(secure.url, "Secure Team", { userId: "s1", repository: "secure/app" });
      const form = await fetch(`${secure.url}/tasks/sign-in`);
      const nonce = form.headers.getSetCookie()[0]!;
      expect(nonce).toMatch(/^__Host-tasks_sign_in=.*; Secure/);
      const res = await post(secure.url, "/tasks/sign-in", { csrf: csrfOf(await form.text()), credential: seed.apiKey }, { cookie: nonce.split(";")[0]!, headers: { origin: "https://tasks.example.com" } });
      expect(res.status).toBe(303);
      const session = res.setCookies.find((line) => line.startsWith("__Host-tasks_session="))!;
      expect(session).toMatch(/; Secure/);
      expect(session).toMatch(/; HttpOnly/);
      expect(session).toMatch(/; SameSite=Strict/);
      // The public origin is the one a form may come from.
      const cookie = session.split(";")[0]!;
      const page = await get(secure.url, "/tasks", cookie);
      expect(page.status).toBe(200);
      const stream = await openStream(secure.url, "/tasks/events", cookie);
      expect(stream.status).toBe(200);
      stream.reader.close();
    } finally {
      await secure.close();
    }
  });
});
