// The CLI's one error type. The kind fixes the exit code: scripts tell a mistake in the
// command line (2) from a refusal or an outage on the server's side, or a failed local run (1).
export type CliErrorKind = "usage" | "config" | "server" | "connection" | "run" | "internal";

export class CliError extends Error {
  constructor(
    readonly kind: CliErrorKind,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "CliError";
  }

  get exitCode(): number {
    return this.kind === "usage" ? 2 : 1;
  }
}

export const usageError = (message: string): CliError => new CliError("usage", "usage", message);
