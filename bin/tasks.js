#!/usr/bin/env node
// The `tasks` operator CLI. There is no build step: tsx compiles the TypeScript sources on load.
import { register } from "tsx/esm/api";

register();
// Imported only after register(), so Node can load the .ts file.
await import("../src/cli/main.ts");
