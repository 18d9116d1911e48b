#!/usr/bin/env node
// Generates the Prisma client into src/generated/prisma.
// `prisma generate` does not need Prisma's schema engine, but the CLI tries to download it
// on start and fails offline; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// skips that download (see ../shared/ENVIRONMENT.md).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
let prismaCli;
try {
  prismaCli = require.resolve("prisma/build/index.js");
} catch {
  // Production installs (`npm ci --omit=dev`) ship the generated client in the image instead.
  console.log("prisma CLI not installed; skipping client generation");
  process.exit(0);
}
const root = fileURLToPath(new URL("..", import.meta.url));
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
const result = spawnSync(process.execPath, [prismaCli, "generate"], { cwd: root, env, stdio: "inherit" });
process.exit(result.status ?? 1);
