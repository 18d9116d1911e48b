// The error taxonomy (STYLE.md habit 8). Every failure the domain reports is an AppError
// with a kind that fixes its HTTP status and whether retrying can help.

export type ErrorKind =
  | "invalid" // malformed input: wrong type, format, unknown field
  | "unauthorized" // no or wrong credentials
  | "forbidden" // authenticated, but not allowed (e.g. the `tasks` flag is off)
  | "not_found"
  | "conflict" // clashes with current state (idempotency key reuse, finished task)
  | "unprocessable" // well-formed, but refers to things that do not fit (unknown user, uncovered repo)
  | "too_large"
  | "unavailable"; // a dependency failed; retrying later may succeed

const statusByKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unprocessable: 422,
  unavailable: 503,
};

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly field: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    this.field = options.field;
  }

  get status(): number {
    return statusByKind[this.kind];
  }

  /** Permanent errors fail the same way every time; only `unavailable` is worth retrying. */
  get retryable(): boolean {
    return this.kind === "unavailable";
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
