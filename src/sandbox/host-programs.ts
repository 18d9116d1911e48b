// Programs of the server that sandboxes run: the agent CLIs and Node. They are looked up once, at
// start, on the server's own PATH (so a CLI installed with nvm or in a user's npm prefix is found),
// and bound read-only into each sandbox: the package they belong to, never the directory around it.
import { accessSync, constants, realpathSync, statSync } from "node:fs";
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
 * hold it; the enclosing `node_modules` when it is part of an npm package (a CLI's script finds
 * its native binary in a sibling package); else the file alone.
 */
export function bindsForProgram(program: string): Bind[] {
  if (underSystemDirs(program)) return [];
  const parts = program.split("/");
  const modules = parts.indexOf("node_modules"); // the outermost: hoisted siblings live there
  if (modules > 0) return [{ host: parts.slice(0, modules + 1).join("/") }];
  return [{ host: program }];
}

/** Node's installation (its prefix: bin/ and lib/), bound when it lives outside the system directories (nvm). */
export function bindsForNode(nodePath: string): Bind[] {
  if (underSystemDirs(nodePath)) return [];
  return [{ host: path.dirname(path.dirname(nodePath)) }];
}
