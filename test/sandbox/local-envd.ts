// An E2BSandboxHandle backed by real local processes that behaves like envd where it matters
// for stopping commands (read from envd's process handler): the command runs as
// `/bin/bash -c <string>` in envd's own process group (no setpgid), and kill() signals only
// that one process. With it, the adapter's group kill is exercised on real processes.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { E2BCommandHandle, E2BCommandResult, E2BRunOptions, E2BSandboxHandle } from "../../src/sandbox/e2b-sdk.ts";
import { FakeCommandExitError, FakeFileNotFoundError } from "./fake-e2b-sdk.ts";

export class LocalEnvdSandbox implements E2BSandboxHandle {
  readonly commands = { run: (cmd: string, options: E2BRunOptions) => this.run(cmd, options) };
  readonly files = {
    write: async (): Promise<unknown> => ({}),
    read: (async (path: string): Promise<string> => {
      throw new FakeFileNotFoundError(path);
    }) as E2BSandboxHandle["files"]["read"],
  };

  constructor(
    readonly sandboxId: string,
    private readonly fallbackCwd: string,
  ) {}

  async setTimeout(): Promise<void> {}
  async isRunning(): Promise<boolean> {
    return true;
  }
  async kill(): Promise<boolean> {
    return true;
  }

  private async run(cmd: string, options: E2BRunOptions): Promise<E2BCommandHandle> {
    const child = spawn("/bin/bash", ["-c", cmd], {
      cwd: options.cwd && existsSync(options.cwd) ? options.cwd : this.fallbackCwd,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...options.envs },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    const done = new Promise<E2BCommandResult>((resolve, reject) => {
      child.once("exit", (code) => {
        const exitCode = code ?? -1;
        if (exitCode === 0) resolve({ exitCode, stdout, stderr });
        else reject(new FakeCommandExitError(exitCode, stdout, stderr));
      });
    });
    done.catch(() => undefined); // observed through wait()
    await new Promise((resolve) => child.once("spawn", resolve));
    return {
      pid: child.pid!,
      wait: () => done,
      kill: async () => child.kill("SIGKILL"),
    };
  }
}
