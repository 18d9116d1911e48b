// The coder's diff was read from a command's captured output, which keeps only its last 10 MB:
// a larger change silently lost files from the PR or failed with "No valid patches". Now the diff
// goes through a file read byte for byte, and above an explicit limit publishing refuses, saying so.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPermanent } from "../../src/lib/errors.ts";
import { failureOf } from "../agent/test-sandboxes.ts";
import { createPublishHarness, git, type PublishHarness } from "./publish-harness.ts";

describe("large changes are published whole or refused clearly", () => {
  let harness: PublishHarness;
  beforeAll(async () => {
    harness = await createPublishHarness("large-diff");
  });
  afterAll(async () => {
    await harness?.close();
  });

  it("publishes a change of over 16 MB with every file, byte for byte", { timeout: 240_000 }, async () => {
    // Four 4 MB text files (not compressible into a short diff) and a binary one with non-UTF-8 bytes.
    const coder = [
      "for n in 1 2 3 4; do head -c 3000000 /dev/urandom | base64 > data$n.txt; done",
      "printf 'caf\\351 \\377\\376\\n' > latin1.txt",
    ].join(" && ");
    const run = await harness.coderRan("sixteen", 54_001, coder);
    try {
      await run.publish();
      const [, branch] = run.branches();
      const files = git(run.repoPath, "ls-tree", "-r", "--name-only", branch!).split("\n").sort();
      expect(files).toEqual(["README.md", "data1.txt", "data2.txt", "data3.txt", "data4.txt", "docs/ci.yml", "latin1.txt"]);
      const sizes = git(run.repoPath, "ls-tree", "-r", "-l", branch!).split("\n").filter((line) => /\tdata\d\.txt$/.test(line));
      expect(sizes.reduce((sum, line) => sum + Number(line.split(/\s+/)[3]), 0)).toBeGreaterThan(16_000_000);
      // Not UTF-8: a text reading of the diff would have replaced these bytes.
      const latin1 = git(run.repoPath, "rev-parse", `${branch}:latin1.txt`);
      expect(latin1).toBe(gitHashOf(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x0a])));
    } finally {
      await run.done();
    }
  });

  it("refuses a change above the limit, naming it, and pushes nothing", { timeout: 120_000 }, async () => {
    const run = await harness.coderRan("over", 54_002, "head -c 2000000 /dev/urandom | base64 > big.txt", { maxPatchBytes: 1024 * 1024 });
    try {
      const refused = await failureOf(run.publish());
      expect(isPermanent(refused)).toBe(true);
      expect(refused.message).toBe("publishing refused: the change is larger than 1 MiB as a diff; Tasks publishes changes up to that size. Split the task into smaller ones.");
      expect(run.branches()).toEqual(["refs/heads/main"]);
    } finally {
      await run.done();
    }
  });
});

/** git's blob id of these bytes. */
function gitHashOf(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
