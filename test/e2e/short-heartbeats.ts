// The worker of the worker-kill test: `node --import tsx <this>` runs the real src/temporal/worker.ts
// after one change. Temporal learns that a SIGKILLed worker is gone only when its activity misses
// a heartbeat, and production waits 2 minutes for that; this swaps the workflow bundle's
// activity profiles for short-activity-profiles.ts, so the retry comes within a test's patience.
// Nothing else of the worker changes. (An entry rather than a second --import: the SDK's
// workflow threads inherit the process's --import flags, and tsx is not ready for a .ts there.)
import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "@temporalio/worker";

const replacement = fileURLToPath(new URL("./short-activity-profiles.ts", import.meta.url));
const workflowsFile = fileURLToPath(new URL("../../src/temporal/workflows.ts", import.meta.url));

interface ResolveData {
  request: string;
  contextInfo: { issuer: string };
}
interface Compiler {
  hooks: { normalModuleFactory: { tap(name: string, fn: (factory: { hooks: { beforeResolve: { tap(name: string, fn: (data: ResolveData) => void): void } } }) => void): void } };
}

/** Only workflows.ts's own import is replaced: short-activity-profiles.ts imports the real file. */
const swapProfiles = {
  apply(compiler: Compiler) {
    compiler.hooks.normalModuleFactory.tap("short-heartbeats", (factory) =>
      factory.hooks.beforeResolve.tap("short-heartbeats", (data) => {
        if (data.contextInfo.issuer === workflowsFile && data.request === "./activity-profiles.ts") data.request = replacement;
      }),
    );
  },
};

const create = Worker.create.bind(Worker);
Worker.create = (options: WorkerOptions) =>
  create({
    ...options,
    bundlerOptions: {
      ...options.bundlerOptions,
      webpackConfigHook: (config) => ({ ...config, plugins: [...(config.plugins ?? []), swapProfiles as never] }),
    },
  });

await import("../../src/temporal/worker.ts");
