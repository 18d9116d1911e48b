// What the control plane's index holds against the run's base, blob by blob, so the secret scan
// reads the bytes git will commit (binary files and files git is told to treat as binary too),
// not the sandbox's text of them. Blobs come back as latin1 strings: one character per byte.
import { AppError } from "../lib/errors.ts";
import type { GitRunner } from "./git-runner.ts";

export interface StagedBlob {
  /** A, D, M or T (renames are split into a delete and an add). */
  status: string;
  path: string;
  /** The blob before, or null for an added file. */
  oldBlob: string | null;
  /** The blob git will commit, or null for a deleted file or a submodule (a commit, not a blob). */
  newBlob: string | null;
}

const zeroSha = /^0+$/;
const rawHeader = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([ADMTUX])$/;

/** `git diff --cached --raw -z --no-renames --no-abbrev`: `:mode mode sha sha status\0path\0` per file. */
export function parseRawDiff(text: string): StagedBlob[] {
  const fields = text.split("\0");
  const entries: StagedBlob[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const header = rawHeader.exec(fields[index]!.replace(/^\n/, ""));
    const path = fields[index + 1]!;
    if (!header || path === "") throw new AppError("invalid", "raw_diff_unreadable", `unreadable git --raw entry: ${JSON.stringify(fields[index])}`);
    const [, , newMode, oldSha, newSha, status] = header;
    const isBlob = (sha: string, mode: string) => !zeroSha.test(sha) && mode !== "160000";
    entries.push({
      status: status!,
      path,
      oldBlob: isBlob(oldSha!, header[1]!) ? oldSha! : null,
      newBlob: isBlob(newSha!, newMode!) ? newSha! : null,
    });
  }
  return entries;
}

/** Sizes in bytes of the given blobs (`git cat-file --batch-check`). */
export async function blobSizes(git: GitRunner, repoDir: string, shas: string[]): Promise<Map<string, number>> {
  if (shas.length === 0) return new Map();
  const { stdout } = await git({ cwd: repoDir, args: ["cat-file", "--batch-check=%(objectname) %(objectsize)"], stdin: shas.join("\n") + "\n" });
  const sizes = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const [sha, size] = line.split(" ");
    if (sha && size && /^\d+$/.test(size)) sizes.set(sha, Number(size));
  }
  return sizes;
}

/** The bytes of each blob, as latin1 strings (`git cat-file --batch`: `<sha> blob <size>\n<bytes>\n` each). */
export async function readBlobs(git: GitRunner, repoDir: string, shas: string[]): Promise<Map<string, string>> {
  if (shas.length === 0) return new Map();
  const { stdout } = await git({ cwd: repoDir, args: ["cat-file", "--batch"], stdin: shas.join("\n") + "\n", bytes: true });
  const blobs = new Map<string, string>();
  let cursor = 0;
  while (cursor < stdout.length) {
    const headerEnd = stdout.indexOf("\n", cursor);
    const [sha, type, size] = stdout.slice(cursor, headerEnd === -1 ? undefined : headerEnd).split(" ");
    if (headerEnd === -1 || type !== "blob" || !sha || !size || !/^\d+$/.test(size)) {
      throw new AppError("invalid", "blob_unreadable", `git cat-file could not read ${JSON.stringify(sha ?? "")}`);
    }
    const start = headerEnd + 1;
    blobs.set(sha, stdout.slice(start, start + Number(size)));
    cursor = start + Number(size) + 1;
  }
  return blobs;
}
