// A small fetch wrapper for the admin API. Every failure becomes a CliError carrying the
// server's own message and code, or naming the URL it could not reach.
import { CliError } from "./cli-error.ts";

export interface Connection {
  /** Base URL without a trailing slash, e.g. http://localhost:3000. */
  readonly baseUrl: string;
  readonly token: string;
  /** Where the token came from, named when the server refuses it. */
  readonly tokenSource: string;
}

export type Method = "GET" | "POST" | "PUT";

export interface AdminClient {
  /** The parsed JSON body of a 2xx answer, typed by the caller (the server's schema). */
  request<T>(method: Method, path: string, body?: object): Promise<T>;
}

// Long enough for a busy server, short enough that a wedged one does not hang a script.
const timeoutMs = 30_000;

export function createAdminClient(connection: Connection): AdminClient {
  return {
    async request<T>(method: Method, path: string, body?: object): Promise<T> {
      const response = await send(connection, method, path, body);
      const text = await response.text().catch((error: unknown) => {
        throw connectionError(connection.baseUrl, error);
      });
      const json = parseJson(text);
      if (!response.ok) throw serverError(connection, response, json);
      if (json === undefined) throw new CliError("server", "bad_response", `the Tasks server at ${connection.baseUrl} answered ${response.status} without a JSON body`);
      return json as T;
    },
  };
}

async function send(connection: Connection, method: Method, path: string, body: object | undefined): Promise<Response> {
  try {
    return await fetch(`${connection.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${connection.token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw connectionError(connection.baseUrl, error);
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof error?.message === "string" && typeof error.code === "string";
}

function serverError(connection: Connection, response: Response, body: unknown): CliError {
  if (!isErrorBody(body)) {
    return new CliError("server", `http_${response.status}`, `the Tasks server at ${connection.baseUrl} answered ${response.status} ${response.statusText}`.trim());
  }
  const { code, message, field } = body.error;
  if (response.status === 401) {
    // The server's text speaks of HTTP headers; the operator needs to know which token was sent.
    return new CliError("server", code, `the server refused the admin token from ${connection.tokenSource} (${message})`);
  }
  return new CliError("server", code, message, field);
}

function connectionError(baseUrl: string, error: unknown): CliError {
  if (error instanceof Error && error.name === "TimeoutError") {
    return new CliError("connection", "timeout", `the Tasks server at ${baseUrl} did not answer within ${timeoutMs / 1000} s`);
  }
  return new CliError("connection", "unreachable", `cannot reach the Tasks server at ${baseUrl}: ${describeCause(error)}`);
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, DNS) sits in its cause. */
function describeCause(error: unknown): string {
  let cause: unknown = error instanceof Error && error.cause !== undefined ? error.cause : error;
  // With several addresses for one host (localhost: ::1 and 127.0.0.1) the cause aggregates.
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (!(cause instanceof Error)) return String(cause);
  return cause.message || String((cause as { code?: unknown }).code ?? cause.name);
}
