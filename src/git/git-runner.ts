// Runs git for the control plane: argv arrays through execFile (never a shell), a scrubbed
// environment, and the installation token only ever in that one command's environment as an
// `http.<origin>/.extraheader` (GIT_CONFIG_COUNT), never in argv, a URL or .git/config.
import { execFile as nodeExecFile, type ChildProcess, type ExecFileException } from "node:child_process";
import { statSync } from "node:fs";
import { AppError, type ErrorKind } from "../lib/errors.ts";

export interface ExecFileOptions {
  cwd?: string;
  env: Record<string, string>;
  /** latin1 keeps every byte as one character, for blobs read as bytes (see `GitCommand.bytes`). */
  encoding: "utf8" | "latin1";
  maxBuffer: number;
  timeout: number;
  killSignal: NodeJS.Signals;
  windowsHide: boolean;
}

export type ExecFileCallback = (error: ExecFileException | null, stdout: string, stderr: string) => void;

/** The slice of `child_process.execFile` used here; tests wrap it to see every argv. */
export type ExecFileFn = (file: string, args: string[], options: ExecFileOptions, callback: ExecFileCallback) => ChildProcess;

export interface GitRunnerDeps {
  /** The process environment; only the variables in `passedThrough` reach git. */
  env: Readonly<Record<string, string | undefined>>;
  execFile?: ExecFileFn;
  /** Per command; a clone of a large repository is the slowest thing run here. */
  timeoutMs?: number;
}

export interface GitAuth {
  /** The http(s) URL git will talk to; the header is scoped to its origin. */
  url: string;
  token: string;
}

export interface GitCommand {
  args: string[];
  cwd?: string;
  /** Text, or the exact bytes of a patch (which need not be UTF-8). */
  stdin?: string | Uint8Array;
  /** Output is read byte for byte (latin1: one character per byte) instead of as UTF-8. */
  bytes?: boolean;
  auth?: GitAuth;
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (e.g. 1 from `diff --quiet`). */
  okExitCodes?: number[];
}

export interface GitOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type GitRunner = (command: GitCommand) => Promise<GitOutput>;

export class GitCommandError extends AppError {
  constructor(kind: ErrorKind, code: string, message: string, readonly output?: GitOutput, options: { cause?: unknown } = {}) {
    super(kind, code, message, options);
    this.name = "GitCommandError";
  }
}

// What git may inherit: finding binaries, locale, temp space, proxies and CA bundles. Notably
// absent: GIT_DIR & co, GIT_ASKPASS, credential helpers' sockets and GIT_TRACE* (which would
// print the Authorization header).
const passedThrough = [
  "PATH", "HOME", "TMPDIR", "TZ", "SYSTEMROOT",
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "ALL_PROXY", "all_proxy",
  "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_EXEC_PATH",
];

export function createGitRunner(deps: GitRunnerDeps): GitRunner {
  const execFile = deps.execFile ?? (nodeExecFile as unknown as ExecFileFn);
  const timeout = deps.timeoutMs ?? 10 * 60_000;
  const baseEnv: Record<string, string> = {};
  for (const name of passedThrough) {
    const value = deps.env[name];
    if (value !== undefined) baseEnv[name] = value;
  }
  Object.assign(baseEnv, {
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GCM_INTERACTIVE: "never",
    // The operator's ~/.gitconfig and /etc/gitconfig could add credential helpers, URL rewrites,
    // hooks or commit signing; the control plane's git behaves the same on every machine.
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  });

  return (command) =>
    new Promise<GitOutput>((resolve, reject) => {
      const env = { ...baseEnv, ...command.env, ...configEnv(command.auth) };
      const secrets = command.auth ? secretForms(command.auth.token) : [];
      const options: ExecFileOptions = { env, encoding: command.bytes ? "latin1" : "utf8", maxBuffer: 64 * 1024 * 1024, timeout, killSignal: "SIGKILL", windowsHide: true };
      if (command.cwd !== undefined) options.cwd = command.cwd;
      let child: ChildProcess;
      try {
        child = execFile("git", command.args, options, (error, stdout, stderr) => {
          const output = { exitCode: 0, stdout, stderr: redact(stderr, secrets) };
          if (!error) return resolve(output);
          if (typeof error.code === "number") output.exitCode = error.code;
          if (typeof error.code === "number" && command.okExitCodes?.includes(error.code)) return resolve(output);
          reject(commandError(command, error, output));
        });
      } catch (error) {
        // A cwd that is a file fails the spawn itself rather than calling back.
        return reject(commandError(command, error as ExecFileException, { exitCode: 0, stdout: "", stderr: "" }));
      }
      // Without this, a command that does not read stdin could still wait on it.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(command.stdin ?? "");
    });
}

/** The token as git's `Authorization: Basic` header, scoped to the URL's origin. */
function configEnv(auth: GitAuth | undefined): Record<string, string> {
  if (!auth) return {};
  const url = assertPlainHttpUrl(auth.url);
  const credentials = Buffer.from(`x-access-token:${auth.token}`).toString("base64");
  return {
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: `http.${url.origin}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${credentials}`,
    // A redirect must not carry the header to another host.
    GIT_CONFIG_KEY_1: "http.followRedirects",
    GIT_CONFIG_VALUE_1: "false",
  };
}

/** Remote URLs carry no credentials, ever; only http(s) can carry the header. */
export function assertPlainHttpUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError("invalid", "invalid_remote_url", "the remote URL is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AppError("invalid", "invalid_remote_url", `the remote URL must be http(s), got ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new AppError("invalid", "credentials_in_url", "the remote URL must not contain credentials; the token travels in a header");
  }
  return url;
}

function secretForms(token: string): string[] {
  return [token, Buffer.from(`x-access-token:${token}`).toString("base64")];
}

function redact(text: string, secrets: string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join("***"), text);
}

function commandError(command: GitCommand, error: ExecFileException, output: GitOutput): GitCommandError {
  const what = `git ${command.args[0] ?? ""}`;
  if (typeof error.code === "string") {
    // Node reports a missing working directory as the missing program (`spawn git ENOENT`).
    const cwdProblem = command.cwd === undefined ? null : directoryProblem(command.cwd);
    if (cwdProblem !== null) return new GitCommandError("unavailable", "git_cwd_missing", `${what} could not run: ${cwdProblem}`, output, { cause: error });
    if (error.code === "ENOENT") return new GitCommandError("unavailable", "git_missing", "git is not installed or not on PATH", output, { cause: error });
    return new GitCommandError("unavailable", "git_failed", `${what} could not run: ${error.message}`, output, { cause: error });
  }
  if (error.killed) return new GitCommandError("unavailable", "git_timeout", `${what} did not finish in time and was killed`, output);
  const detail = output.stderr.trim().split("\n").slice(-5).join("\n");
  return new GitCommandError("unavailable", "git_failed", `${what} failed (exit ${output.exitCode})${detail ? `: ${detail}` : ""}`, output);
}

/** Why `dir` cannot be a working directory, or null when it can. */
function directoryProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `${dir} is not a directory`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `the directory ${dir} does not exist` : `the directory ${dir} cannot be used (${code ?? "unknown error"})`;
  }
}
