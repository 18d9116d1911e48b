// The error taxonomy (STYLE.md habit 8). Every failure the domain reports is an AppError
// with a kind that fixes its HTTP status and whether retrying can help. isRetryable() is the one
// decision between permanent and transient, for the embedded runner's retries, the Temporal
// activity wrappers and the API alike.

export type ErrorKind =
  | "invalid" // malformed input: wrong type, format, unknown field
  | "unauthorized" // no or wrong credentials
  | "forbidden" // authenticated, but not allowed (e.g. the `tasks` flag is off)
  | "not_found"
  | "conflict" // clashes with current state (idempotency key reuse, finished task)
  | "unprocessable" // well-formed, but refers to things that do not fit (unknown user, uncovered repo)
  | "too_large"
  | "unavailable" // a dependency failed; retrying later may succeed
  | "failed"; // the work was done and failed in a way retrying cannot fix (an agent exited non-zero, a refused change)

const statusByKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unprocessable: 422,
  failed: 422,
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

/**
 * The name a permanent failure carries, also across a process boundary (Temporal's failure
 * type; pipeline/activities.ts names it again for workflow code, which may not import lib/).
 */
export const permanentFailureName = "PermanentTaskFailure";

/** A failure retrying cannot fix; the run fails with this message as its readable reason. */
export class PermanentFailure extends AppError {
  readonly permanent = true;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("failed", "permanent_failure", message, options);
    this.name = permanentFailureName;
  }
}

/**
 * Whether trying again may help. An AppError knows by its kind; an error from elsewhere is
 * permanent only when marked so (flagged `permanent`, or named or typed as a permanent failure);
 * anything else (a network blip, a 502, an unknown bug) may pass.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AppError) return error.retryable;
  if (typeof error !== "object" || error === null) return true;
  const marked = error as { permanent?: unknown; name?: unknown; type?: unknown };
  return !(marked.permanent === true || marked.name === permanentFailureName || marked.type === permanentFailureName);
}

/** An error that retrying cannot fix; its message is the readable reason a run records. */
export const isPermanent = (error: unknown): error is Error => error instanceof Error && !isRetryable(error);

/** The readable reason an error gives, whatever was thrown. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
