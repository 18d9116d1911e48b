// Conventions both adapters share for the way a command ends, so callers see one behaviour
// whichever sandbox ran it.

/** The exit code reported for a command stopped by its timeout (timeout(1)'s convention). */
export const TIMED_OUT_EXIT_CODE = 124;

/**
 * The exit code reported for a command the sandbox stopped at one of its limits (too many
 * processes, the disk nearly full): the code of a SIGKILLed process, which it was. Its stderr
 * ends with a `[sandbox]` line saying which limit.
 */
export const STOPPED_AT_LIMIT_EXIT_CODE = 137;

/** The exit code reported when the program could not be found (the shell's convention). */
export const NOT_FOUND_EXIT_CODE = 127;

/**
 * The command was stopped because the caller aborted it (ExecOptions.signal). Named
 * "AbortError" like the platform's own abort errors; the signal's reason is the cause.
 */
export class CommandAbortedError extends Error {
  constructor(options?: { cause?: unknown }) {
    super("the command was aborted", options);
    this.name = "AbortError";
  }
}
