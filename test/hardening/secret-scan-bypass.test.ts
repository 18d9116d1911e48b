// The secret scan read the sandbox's diff text: a file git treats as binary (a `.gitattributes`
// entry, or one NUL byte) shows no lines there, a file name was never read, and the PR body was
// scanned after it was cut to GitHub's size while the commit message was not scanned at all. Now
// the scan reads the bytes git commits, the names, the commit message and every text whole.
// Through the real publishing path; nothing refused reaches the repository.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPermanent } from "../../src/lib/errors.ts";
import { failureOf } from "../agent/test-sandboxes.ts";
import { createPublishHarness, git, type CoderRun, type PublishHarness } from "./publish-harness.ts";

// A GitHub token's shape, made at run time so the repository holds no token-looking literal.
const token = ["ghp", "_", "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"].join("");

describe("secrets cannot leave in bytes, names, commit messages or long texts", () => {
  let harness: PublishHarness;
  beforeAll(async () => {
    harness = await createPublishHarness("secret-bypass");
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function expectBlocked(run: CoderRun, where: RegExp) {
    try {
      const refused = await failureOf(run.publish());
      expect(isPermanent(refused)).toBe(true);
      expect(refused.message).toMatch(/publishing blocked: the changes look like they contain secrets/);
      expect(refused.message).toMatch(where);
      // The finding says where and what kind, never the value.
      expect(refused.message).not.toContain(token);
      expect(run.branches()).toEqual(["refs/heads/main"]);
    } finally {
      await run.done();
    }
  }

  it("finds a token in a file .gitattributes marks binary", { timeout: 120_000 }, async () => {
    const run = await harness.coderRan("attributes", 52_001, `printf '*.dat binary\\n' > .gitattributes && printf 'token=${token}\\n' > notes.dat`);
    await expectBlocked(run, /file: notes\.dat/);
  });

  it("finds a token in a file with a NUL byte, and one written as UTF-16", { timeout: 120_000 }, async () => {
    const utf16 = [...`key=${token}`].map((char) => `${char}\\000`).join("");
    const run = await harness.coderRan("nul", 52_002, `printf 'x\\000y token=${token}\\n' > blob.bin && printf '${utf16}' > wide.txt`);
    await expectBlocked(run, /file: blob\.bin[\s\S]*file: wide\.txt|file: wide\.txt[\s\S]*file: blob\.bin/);
  });

  it("finds a token in a file's name", { timeout: 120_000 }, async () => {
    const run = await harness.coderRan("name", 52_003, `mkdir -p cache && echo cached > "cache/${token}.json"`);
    await expectBlocked(run, /file name: cache\//);
  });

  it("finds a token past the 65,536 characters the PR body keeps, in the commit message built from the summary", { timeout: 120_000 }, async () => {
    // Line 1 is long enough that the PR body is cut before line 2; the commit message keeps 20 lines.
    const summary = `${"Refactored the parser. ".repeat(3200)}\nAlso set the token to ${token}.`;
    const run = await harness.coderRan("message", 52_004, "echo change >> README.md", { summary });
    await expectBlocked(run, /commit message/);
  });

  it("lets a value the file already held pass (a fixture the agent did not add), and publishes", { timeout: 120_000 }, async () => {
    const run = await harness.coderRan("existing", 52_005, "printf 'more\\n' >> test/fixture.txt", { files: { "test/fixture.txt": `example=${token}\n` } });
    try {
      await run.publish();
      const [, branch] = run.branches();
      expect(git(run.repoPath, "show", `${branch}:test/fixture.txt`)).toBe(`example=${token}\nmore`);
    } finally {
      await run.done();
    }
  });
});
