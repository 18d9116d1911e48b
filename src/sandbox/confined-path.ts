// File access of the local sandbox, confined to its directory. Paths come from our own code,
// but the files and directories they lead through were written by an untrusted agent, which
// could plant a symbolic link where we later read its output (pointing at a private key) or
// write a prompt (pointing at a host file). So symbolic links are resolved and checked in every
// directory on the way, the file itself is opened with O_NOFOLLOW, and reading refuses anything
// but a regular file (a FIFO would block the reader forever).
import { constants } from "node:fs";
import { lstat, mkdir, open, realpath, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { SandboxFileTooLargeError } from "./sandbox.ts";

export class SandboxPathError extends Error {
  constructor(readonly requested: string, reason: string) {
    super(`${requested}: ${reason}`);
    this.name = "SandboxPathError";
  }
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** `requested`, resolved against `base`, as a path inside `root` (itself a real path). */
export function lexicallyInside(root: string, base: string, requested: string): string {
  const resolved = path.resolve(base, requested);
  if (!isInside(root, resolved)) throw new SandboxPathError(requested, `is outside the sandbox directory ${root}`);
  return resolved;
}

/** An existing directory inside `root`, with every symbolic link on the way resolved and checked. */
export async function realDirectoryInside(root: string, base: string, requested: string): Promise<string> {
  const real = await realpath(lexicallyInside(root, base, requested));
  if (!isInside(root, real)) throw new SandboxPathError(requested, "leads outside the sandbox directory through a symbolic link");
  return real;
}

async function deepestExisting(target: string): Promise<string> {
  for (let current = target; ; current = path.dirname(current)) {
    try {
      await lstat(current);
      return current;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || path.dirname(current) === current) throw error;
    }
  }
}

async function fileInside(root: string, base: string, requested: string, createParents: boolean): Promise<string> {
  const resolved = lexicallyInside(root, base, requested);
  if (resolved === root) throw new SandboxPathError(requested, "is the sandbox directory itself");
  let parent = path.dirname(resolved);
  if (createParents) {
    // Check what exists before creating the rest, so mkdir never follows a planted link out.
    const existing = await deepestExisting(parent);
    const realExisting = await realDirectoryInside(root, root, existing);
    await mkdir(path.join(realExisting, path.relative(existing, parent)), { recursive: true });
  }
  parent = await realDirectoryInside(root, root, parent);
  return path.join(parent, path.basename(resolved));
}

function refuseLinks(requested: string, error: unknown): never {
  if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new SandboxPathError(requested, "is a symbolic link");
  throw error;
}

export async function writeFileInside(root: string, base: string, requested: string, content: string | Uint8Array): Promise<void> {
  const file = await fileInside(root, base, requested, true);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const handle = await open(file, flags, 0o644).catch((error: unknown) => refuseLinks(requested, error));
  try {
    if (!(await handle.stat()).isFile()) throw new SandboxPathError(requested, "is not a regular file");
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

export async function readFileInside(root: string, base: string, requested: string): Promise<string> {
  return withRegularFile(root, base, requested, (handle) => handle.readFile("utf8"));
}

/** The file's bytes, or SandboxFileTooLargeError past `maxBytes` (read in chunks: a file still growing cannot push past it). */
export async function readBytesInside(root: string, base: string, requested: string, maxBytes: number): Promise<Uint8Array> {
  return withRegularFile(root, base, requested, async (handle) => {
    if ((await handle.stat()).size > maxBytes) throw new SandboxFileTooLargeError(requested, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1024 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new SandboxFileTooLargeError(requested, maxBytes);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  });
}

async function withRegularFile<T>(root: string, base: string, requested: string, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  const file = await fileInside(root, base, requested, false);
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((error: unknown) => refuseLinks(requested, error));
  try {
    if (!(await handle.stat()).isFile()) throw new SandboxPathError(requested, "is not a regular file");
    return await use(handle);
  } finally {
    await handle.close();
  }
}
