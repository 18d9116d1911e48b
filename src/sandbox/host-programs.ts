// Programs of the server that sandboxes run: the agent CLIs and Node. They are looked up once, at
// start, on the server's own PATH (so a CLI installed with nvm or in a user's npm prefix is found),
// and bound read-only into each sandbox: the package they belong to, never the directory around it.
import { accessSync, constants, readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { Bind } from "./bubblewrap.ts";

/** Where a sandbox already sees the host's files (bound read-only as a whole). */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;

const isInside = (dir: string, file: string): boolean => file === dir || file.startsWith(`${dir}/`);
export const underSystemDirs = (file: string): boolean => SYSTEM_DIRS.some((dir) => isInside(dir, file));

/** The first executable `name` on `searchPath`: the PATH directory holding it, and its real path. */
export function findOnPath(name: string, searchPath: string): { dir: string; real: string } | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue; // a relative PATH entry would depend on the working directory
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      const real = realpathSync(candidate);
      if (statSync(real).isFile()) return { dir, real };
    } catch {
      // not here: try the next directory
    }
  }
  return undefined;
}

/**
 * What to bind so that `program` (a real path) runs inside: nothing when the system directories
 * hold it; when it is part of an npm package, that package and its platform packages beside it
 * (`@openai/codex` finds its native binary in `@openai/codex-linux-x64`), not the rest of that
 * node_modules; else the file alone.
 */
export function bindsForProgram(program: string): Bind[] {
  if (underSystemDirs(program)) return [];
  const parts = program.split("/");
  const modules = parts.lastIndexOf("node_modules");
  if (modules <= 0 || modules + 1 >= parts.length - 1) return [{ host: program }];
  const scoped = parts[modules + 1]!.startsWith("@");
  const nameEnd = modules + (scoped ? 3 : 2);
  const parent = parts.slice(0, nameEnd - 1).join("/");
  const name = parts[nameEnd - 1]!;
  let siblings: string[] = [];
  try {
    siblings = readdirSync(parent).filter((entry) => entry.startsWith(`${name}-`));
  } catch {
    // an unreadable directory: the package alone
  }
  return [name, ...siblings].map((entry) => ({ host: path.join(parent, entry) }));
}

/** Node's installation (its prefix: bin/ and lib/), bound when it lives outside the system directories (nvm). */
export function bindsForNode(nodePath: string): Bind[] {
  if (underSystemDirs(nodePath)) return [];
  return [{ host: path.dirname(path.dirname(nodePath)) }];
}
