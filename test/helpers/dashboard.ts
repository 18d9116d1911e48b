// A cookie-carrying client for the dashboard under test: sign in through the real form, fetch
// pages, post forms, and read the event stream, all over real HTTP.
import { expect } from "vitest";

export interface Browserless {
  cookie: string;
  csrf: string;
}

const cookiePairs = (response: Response): string[] => response.headers.getSetCookie().map((line) => line.split(";")[0]!);

export const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

export async function get(baseUrl: string, path: string, cookie?: string) {
  const response = await fetch(`${baseUrl}${path}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
  return { status: response.status, text: await response.text(), headers: response.headers, setCookies: response.headers.getSetCookie() };
}

export async function post(baseUrl: string, path: string, fields: Record<string, string>, options: { cookie?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: baseUrl,
      "sec-fetch-site": "same-origin",
      ...(options.cookie ? { cookie: options.cookie } : {}),
      ...options.headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, text: await response.text(), headers: response.headers, setCookies: response.headers.getSetCookie() };
}

/** Signs in through the form; the session cookie and a CSRF token for later posts. */
export async function signIn(baseUrl: string, credential: string): Promise<Browserless> {
  const form = await fetch(`${baseUrl}/tasks/sign-in`);
  const nonceCookie = cookiePairs(form).join("; ");
  const response = await fetch(`${baseUrl}/tasks/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: baseUrl, cookie: nonceCookie },
    body: new URLSearchParams({ csrf: csrfOf(await form.text()), credential }).toString(),
  });
  expect(response.status, await response.text()).toBe(303);
  const cookie = cookiePairs(response).find((pair) => pair.startsWith("tasks_session=") || pair.startsWith("__Host-tasks_session="))!;
  expect(cookie).toBeDefined();
  const board = await get(baseUrl, "/tasks", cookie);
  return { cookie, csrf: csrfOf(board.text) };
}

export interface EventReader {
  /** Reads events until one matches, returning every event read; bounded so a broken test ends. */
  until(match: (event: { event: string; data: string }) => boolean, timeoutMs?: number): Promise<{ event: string; data: string }[]>;
  close(): void;
}

export async function openStream(baseUrl: string, path: string, cookie: string): Promise<{ status: number; headers: Headers; reader: EventReader }> {
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}${path}`, { headers: { cookie, accept: "text/event-stream" }, signal: abort.signal });
  const decoder = new TextDecoder();
  const body = response.body!.getReader();
  let buffer = "";
  const seen: { event: string; data: string }[] = [];
  const reader: EventReader = {
    async until(match, timeoutMs = 30_000) {
      const deadline = setTimeout(() => abort.abort(), timeoutMs);
      try {
        for (;;) {
          const blocks = buffer.split("\n\n");
          buffer = blocks.pop()!;
          for (const block of blocks) {
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
            const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join("\n");
            if (block.startsWith(":")) continue;
            seen.push({ event, data });
            if (match({ event, data })) return [...seen];
          }
          const { value, done } = await body.read();
          if (done) throw new Error(`the stream ended before the event came; saw ${JSON.stringify(seen)}`);
          buffer += decoder.decode(value, { stream: true });
        }
      } finally {
        clearTimeout(deadline);
      }
    },
    close: () => abort.abort(),
  };
  return { status: response.status, headers: response.headers, reader };
}
