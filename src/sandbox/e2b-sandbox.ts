// The E2B adapter (the only module that imports `e2b`): each run gets a microVM from the `tasks`
// template (e2b.Dockerfile at the repository root). The VM is the isolation boundary: it never
// receives a GitHub credential, only what a caller passes to one command's environment.
//
// How commands run, from the SDK (2.51) and envd's source: `commands.run` executes
// `/bin/bash -l -c <string>`, so argv is single-quoted into that string (shell-quote.ts); and
// envd's kill signals only the process it started, not its children. So every command is
// wrapped as `exec setsid -w -- <argv>`: envd's process becomes the leader of a new session and
// process group (setsid acts in place — envd does not make its children group leaders — so the
// group id is the pid envd reports), and on timeout or abort the adapter kills the whole group
// with a second command before killing the handle (e2b-run-sandbox.ts). Commands run in background
// mode so that the adapter holds the handle and decides itself when a command has run too long.
import { ALL_TRAFFIC, CommandExitError, FileNotFoundError, NotFoundError, Sandbox as E2BSandbox, SandboxNotFoundError, TimeoutError } from "e2b";
import { E2BRunSandbox } from "./e2b-run-sandbox.ts";
import { SandboxGoneError, type Sandbox, type SandboxProvider, type SandboxSpec } from "./sandbox.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "./output-capture.ts";
import type { E2BSdk } from "./e2b-sdk.ts";

/** The real SDK behind the narrow surface (e2b-sdk.ts). */
export const e2bSdk: E2BSdk = {
  create: (template, options) => E2BSandbox.create(template, options),
  connect: (sandboxId, options) => E2BSandbox.connect(sandboxId, options),
  errors: { CommandExitError, TimeoutError, NotFoundError, SandboxNotFoundError, FileNotFoundError },
};

export interface E2BSandboxProviderOptions {
  apiKey: string;
  /** Template name or id; the default template is built from e2b.Dockerfile as "tasks". */
  template: string;
  /** Hosts (or CIDRs) the sandbox may reach; everything else is denied. None: no network at all. */
  allowOut?: readonly string[];
  sdk?: E2BSdk;
  maxOutputBytes?: number;
}

export function createE2BSandboxProvider(options: E2BSandboxProviderOptions): SandboxProvider {
  const sdk = options.sdk ?? e2bSdk;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

  return {
    kind: "e2b",

    async create(spec: SandboxSpec): Promise<Sandbox> {
      const handle = await sdk.create(options.template, {
        apiKey: options.apiKey,
        timeoutMs: spec.timeoutMs,
        metadata: { taskId: spec.taskId, runId: spec.runId },
        // `secure` is not passed: in SDK 2.x every sandbox's envd access is secured, and the
        // option is deprecated and ignored. Nothing here turns it off.
        // No open internet: everything is denied but the allow-list (the model gateway's host and
        // TASKS_EGRESS_ALLOW), so untrusted issue text cannot steer the agent to send data anywhere.
        network: { allowOut: [...(options.allowOut ?? [])], denyOut: [ALL_TRAFFIC] },
      });
      const sandbox = new E2BRunSandbox(handle, sdk, maxOutputBytes);
      try {
        await sandbox.prepare();
        return sandbox;
      } catch (error) {
        await sandbox.kill().catch((killError: unknown) => {
          throw new AggregateError([error, killError], `sandbox ${handle.sandboxId} could not be prepared, nor killed`);
        });
        throw error;
      }
    },

    async connect(id: string, spec: SandboxSpec): Promise<Sandbox> {
      try {
        return new E2BRunSandbox(await sdk.connect(id, { apiKey: options.apiKey, timeoutMs: spec.timeoutMs }), sdk, maxOutputBytes);
      } catch (error) {
        if (error instanceof sdk.errors.NotFoundError && !(error instanceof sdk.errors.FileNotFoundError)) throw new SandboxGoneError(id, { cause: error });
        throw error;
      }
    },
  };
}
