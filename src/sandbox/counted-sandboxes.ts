// A SandboxProvider that knows which sandboxes this process holds: created or reconnected and
// not yet killed. /metrics reads the count; a leak (a run that ended without its cleanup) shows
// as a count that only grows.
import type { Sandbox, SandboxProvider } from "./sandbox.ts";

export interface CountedSandboxProvider extends SandboxProvider {
  /** Sandboxes held now. */
  active(): number;
}

export function countSandboxes(provider: SandboxProvider): CountedSandboxProvider {
  // By id: a sandbox reconnected after a restart and then killed is counted once, and a kill of
  // one this process never held (cleanup after a crash) does not go below zero.
  const held = new Set<string>();
  const track = (sandbox: Sandbox): Sandbox => {
    held.add(sandbox.id);
    return {
      get id() {
        return sandbox.id;
      },
      get workdir() {
        return sandbox.workdir;
      },
      get scratchdir() {
        return sandbox.scratchdir;
      },
      exec: (argv, options) => sandbox.exec(argv, options),
      writeFile: (path, content) => sandbox.writeFile(path, content),
      readFile: (path) => sandbox.readFile(path),
      readBytes: (path, maxBytes) => sandbox.readBytes(path, maxBytes),
      extend: (timeoutMs) => sandbox.extend(timeoutMs),
      kill: async () => {
        await sandbox.kill();
        held.delete(sandbox.id);
      },
    };
  };
  return {
    kind: provider.kind,
    gatewayUrl: provider.gatewayUrl,
    create: async (spec) => track(await provider.create(spec)),
    connect: async (id, spec) => track(await provider.connect(id, spec)),
    active: () => held.size,
  };
}
