// Entry point of the `tasks` operator CLI (bin/tasks.js loads it). The only place the CLI
// touches process: argv in, environment into loadConfig, text out, exit code back.
import { loadConfig } from "../config.ts";
import { runCli } from "./dispatch.ts";

// `tasks list | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  loadConfig: () => loadConfig(process.env),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
