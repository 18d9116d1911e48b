// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The module map (../shared/ARCHITECTURE.md): which rooms of src/ each room may import. An
// import in the wrong direction fails lint, so the map stays true as the code grows. Entry points
// and the composition root (main.ts, server.ts, compose.ts) may import anything.
const rooms = {
  "config.ts": ["lib"],
  lib: ["config.ts"],
  pipeline: [],
  publish: ["lib"],
  git: ["lib"],
  sandbox: ["config.ts", "lib"],
  agent: ["config.ts", "lib", "sandbox", "pipeline"],
  db: ["config.ts", "generated", "lib"],
  github: ["config.ts", "lib", "publish", "git"],
  tasks: ["db", "generated", "lib", "pipeline"],
  gateway: ["config.ts", "db", "generated", "lib"],
  "stage-work": ["config.ts", "agent", "db", "gateway", "generated", "git", "github", "lib", "pipeline", "publish", "sandbox"],
  "repository-host": ["db", "generated", "git", "github", "lib", "publish", "stage-work"],
  activities: ["db", "generated", "github", "lib", "pipeline", "publish", "stage-work", "tasks"],
  inbox: ["db", "generated", "lib"],
  runner: ["db", "generated", "lib", "pipeline", "tasks"],
  temporal: ["compose.ts", "config.ts", "db", "lib", "pipeline", "tasks"],
  app: ["config.ts", "github", "inbox", "lib", "tasks"],
  api: ["config.ts", "inbox", "lib", "tasks"],
  cli: ["compose.ts", "config.ts", "db", "generated", "git", "lib", "repository-host", "tasks"],
};
const allRooms = [...Object.keys(rooms), "generated", "compose.ts", "server.ts", "main.ts"];
const escape = (name) => name.replace(/[.]/g, "\\.");

const workflowValueImports = { regex: "^(node:|@temporalio/(?!workflow$))", message: "Workflow code imports only @temporalio/workflow and types.", allowTypeImports: true };
const extraPatterns = {
  // The stage machine is pure and deterministic: no I/O, no SDK (STYLE.md habit 5).
  pipeline: [{ regex: "^(node:|@temporalio/(?!workflow$)|[a-z@])", message: "pipeline/ is pure: it imports nothing but its own modules and @temporalio/workflow." }],
};

// Queries live in db/'s repository functions: elsewhere the generated client is a source of types.
const generatedTypesOnly = { regex: "^(\\.\\./)+generated/", allowTypeImports: true, message: "Outside db/, import the generated Prisma client only as types; query through db/'s repository functions." };

/** One lint block per room: importing any room it is not allowed to fails, naming the map. */
const importDirection = Object.entries(rooms).map(([room, allowed]) => {
  const forbidden = allRooms.filter((other) => other !== room && !allowed.includes(other));
  const target = forbidden.map((name) => (name.endsWith(".ts") ? escape(name) + "$" : escape(name) + "/")).join("|");
  return {
    files: [room.endsWith(".ts") ? `src/${room}` : `src/${room}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...(extraPatterns[room] ?? []),
            ...(room === "db" || !allowed.includes("generated") ? [] : [generatedTypesOnly]),
            {
              // From src/<room>/… a sibling room is ../<name>/…, from deeper folders ../../<name>/….
              regex: `^(\\.\\./)+(${target})`,
              message: `${room} may import only ${allowed.join(", ") || "itself"} (the module map in eslint.config.js and ARCHITECTURE.md).`,
            },
          ],
        },
      ],
    },
  };
});

export { rooms };

export default tseslint.config(
  { ignores: ["node_modules/", "src/generated/", ".data/", "coverage/", ".tools/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    // Only config.ts reads the environment (ARCHITECTURE.md); entry points hand process.env to loadConfig().
    files: ["src/**/*.ts"],
    ignores: ["src/config.ts", "src/main.ts", "src/cli/main.ts", "src/temporal/worker.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through loadConfig() in src/config.ts." }],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/main.ts", "src/cli/**"],
    rules: { "no-console": "error" },
  },
  ...importDirection,
  {
    // Workflow code is replayed from history inside Temporal's sandbox: it may import values only
    // from @temporalio/workflow and the pure pipeline, everything else as types.
    files: ["src/temporal/workflows.ts", "src/temporal/run-inbox.ts", "src/temporal/activity-profiles.ts", "src/temporal/workflow-id.ts", "src/temporal/activity-failure.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            workflowValueImports,
            { regex: "^(\\.\\./)+(?!pipeline/)[a-z-]+/", message: "Workflow code imports only the pure pipeline/ and types.", allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ["scripts/**", "bin/**", "bench/**"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
