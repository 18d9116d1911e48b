// The dashboard's session cookie and CSRF tokens. The cookie holds no credential: it names who
// signed in (a team API key by its id, or the operator) and is signed with an HMAC, so it cannot
// be forged or edited. The signing secret is derived from the admin token, which every web
// process of one deployment already shares (TASKS_ADMIN_TOKEN or TASKS_DATA_DIR/admin-token):
// sessions survive restarts and work across replicas, and rotating the admin token signs
// everyone out.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface Session {
  /** `key`: signed in with a team API key (keyId); `admin`: with the admin token. */
  kind: "key" | "admin";
  keyId?: string | undefined;
  /** The team shown; for the operator, the team picked last (none before one exists). */
  teamId: string | null;
  /** Random per sign-in; CSRF tokens are bound to it. */
  nonce: string;
  /** Seconds since the epoch. */
  issuedAt: number;
}

/** A session lasts a working day; then the key or token is asked for again. */
export const sessionMaxAgeSeconds = 12 * 60 * 60;

export function deriveSessionSecret(adminToken: string): Buffer {
  return createHmac("sha256", adminToken).update("tasks dashboard session v1").digest();
}

const mac = (secret: Buffer, purpose: string, value: string) => createHmac("sha256", secret).update(`${purpose}\0${value}`).digest("base64url");

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export const newNonce = () => randomBytes(18).toString("base64url");

export function newSession(kind: Session["kind"], teamId: string | null, keyId?: string, now = Date.now()): Session {
  return { kind, keyId, teamId, nonce: newNonce(), issuedAt: Math.floor(now / 1000) };
}

export function signSession(secret: Buffer, session: Session): string {
  const payload = Buffer.from(JSON.stringify(session)).toString("base64url");
  return `${payload}.${mac(secret, "session", payload)}`;
}

/** The session the cookie names, or undefined when it is missing, forged, malformed or expired. */
export function verifySession(secret: Buffer, cookie: string | undefined, now = Date.now()): Session | undefined {
  const [payload, signature, extra] = (cookie ?? "").split(".");
  if (!payload || !signature || extra !== undefined || !sameText(signature, mac(secret, "session", payload))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  const session = parsed as Partial<Session> | null;
  if (!session || (session.kind !== "key" && session.kind !== "admin") || typeof session.nonce !== "string" || typeof session.issuedAt !== "number") return undefined;
  if (session.kind === "key" && (typeof session.keyId !== "string" || typeof session.teamId !== "string")) return undefined;
  if (session.teamId !== null && typeof session.teamId !== "string") return undefined;
  const age = Math.floor(now / 1000) - session.issuedAt;
  if (age < 0 || age > sessionMaxAgeSeconds) return undefined;
  return session as Session;
}

/** The CSRF token a form carries: bound to the session (or the sign-in page's nonce), not guessable without the secret. */
export const csrfToken = (secret: Buffer, nonce: string): string => mac(secret, "csrf", nonce);

export function validCsrfToken(secret: Buffer, nonce: string, presented: unknown): boolean {
  return typeof presented === "string" && sameText(presented, csrfToken(secret, nonce));
}

/** The admin token, compared in constant time. */
export function isAdminToken(adminToken: string, presented: string): boolean {
  return sameText(mac(Buffer.from("compare"), "admin", adminToken), mac(Buffer.from("compare"), "admin", presented));
}
