// What every dashboard response and form post goes through: strict security headers, and the
// cross-site checks (Sec-Fetch-Site and Origin) before a form's CSRF token is even looked at.
import type { Context, MiddlewareHandler } from "hono";
import { messagePage } from "./layout.ts";

// No inline script or style anywhere: the page's one script and one stylesheet come from /tasks/assets.
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("Content-Security-Policy", contentSecurityPolicy);
  c.header("X-Frame-Options", "DENY");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "same-origin");
  c.header("Cross-Origin-Opener-Policy", "same-origin");
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
};

/** The origins a form may be posted from: the public URL's and the one the browser used to reach us. */
function allowedOrigins(c: Context, publicUrl: string): Set<string> {
  const origins = new Set([new URL(publicUrl).origin]);
  const host = c.req.header("host");
  if (host) origins.add(`${new URL(c.req.url).protocol}//${host}`);
  return origins;
}

/**
 * Refuses a POST another site made the browser send. Browsers say so in Sec-Fetch-Site and
 * Origin; a client that sends neither is not a browser carrying someone's cookie, and still
 * needs the form's CSRF token.
 */
export function sameOriginPosts(publicUrl: string): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== "POST") return next();
    const site = c.req.header("sec-fetch-site");
    const origin = c.req.header("origin");
    const crossSite = (site !== undefined && site !== "same-origin") || (origin !== undefined && !allowedOrigins(c, publicUrl).has(origin));
    if (crossSite) return c.html(messagePage("Refused", "This form was sent from another site, so it was refused."), 403);
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
      return c.html(messagePage("Refused", "Forms must be sent as application/x-www-form-urlencoded."), 415);
    }
    await next();
  };
}

/** A form's fields; a repeated field keeps its first value. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === "string") fields[name] = first;
  }
  return fields;
}
