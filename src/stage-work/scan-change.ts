// The secret scan of a change about to be published, run in the control plane's clone after
// the patch applied: it reads what git will commit, blob by blob, not the sandbox's text of it.
import { PermanentFailure } from "../lib/errors.ts";
import { scanChangedFiles, scanFileNames, scanForSecrets, type ScanItem, type SecretFinding } from "../publish/secret-scan.ts";
import type { SandboxStageWorkDeps } from "./sandbox-stage-work.ts";

/** The largest single file Tasks reads whole to scan for secrets (GitHub itself warns at 50 MB). */
export const maxScannedFileBytes = 50 * 1024 * 1024;

export const formatMiB = (bytes: number): string => `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;

/**
 * Every text of the change that reaches GitHub, scanned whole before anything is cut to size:
 * the bytes of each changed file, the names, the commit message, the PR's title and each part
 * of its body, and the body as rendered.
 */
export async function scanChange(deps: Pick<SandboxStageWorkDeps, "git">, dir: string, baseSha: string, texts: ScanItem[]): Promise<SecretFinding[]> {
  const staged = await deps.git.stagedBlobs(dir, baseSha);
  const newBlobs = staged.flatMap((file) => (file.newBlob === null ? [] : [file.newBlob]));
  const sizes = await deps.git.blobSizes(dir, newBlobs);
  const tooLarge = staged.filter((file) => file.newBlob !== null && (sizes.get(file.newBlob) ?? 0) > maxScannedFileBytes);
  if (tooLarge.length > 0) {
    throw new PermanentFailure(
      `publishing refused: ${tooLarge.map((file) => JSON.stringify(file.path)).join(", ")} ${tooLarge.length === 1 ? "is" : "are"} larger than ` +
        `${formatMiB(maxScannedFileBytes)}; Tasks scans every changed file for secrets and does not publish files that large`,
    );
  }
  const names = await scanFileNames(staged.map((file) => file.path));
  const findings: SecretFinding[] = [...names.findings, ...(await scanForSecrets(texts))];
  // In batches, so a change of many files is never all in memory at once.
  const written = staged.filter((file) => file.newBlob !== null);
  for (let start = 0; start < written.length; ) {
    let batchBytes = 0;
    let end = start;
    while (end < written.length && (end === start || batchBytes + (sizes.get(written[end]!.newBlob!) ?? 0) <= maxScannedFileBytes)) {
      batchBytes += sizes.get(written[end]!.newBlob!) ?? 0;
      end += 1;
    }
    const batch = written.slice(start, end);
    const blobs = await deps.git.readBlobs(dir, batch.map((file) => file.newBlob!));
    const readOld = (sha: string | null) => async () => (sha === null ? null : ((await deps.git.readBlobs(dir, [sha])).get(sha) ?? null));
    findings.push(
      ...(await scanChangedFiles(
        batch.map((file) => ({ path: file.path, newBytes: blobs.get(file.newBlob!) ?? "", oldBytes: readOld(file.oldBlob), ...(names.shown.has(file.path) ? { shownPath: names.shown.get(file.path)! } : {}) })),
      )),
    );
    start = end;
  }
  return findings;
}
