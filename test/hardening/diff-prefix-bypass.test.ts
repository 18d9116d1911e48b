// The coder owns its checkout's .git/config, and the diff the control plane reads is made there:
// `diff.mnemonicPrefix` turned `b/.github/workflows/evil.yml` into `i/.github/...`, which the
// workflow policy let through while `git apply` (stripping any first component) committed the
// workflow. Through the real stage work: the bubblewrap-isolated local sandbox, the `command`
// agent, a real local repository as the host and real git; nothing that is refused is pushed.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGit } from "../../src/git/git.ts";
import { isPermanent } from "../../src/lib/errors.ts";
import { refuseCommittedPaths } from "../../src/publish/committed-paths.ts";
import { failureOf } from "../agent/test-sandboxes.ts";
import { createPublishHarness, git, gitEnv, type PublishHarness } from "./publish-harness.ts";

const evilWorkflow = "mkdir -p .github/workflows && printf 'on: push\\njobs: {}\\n' > .github/workflows/evil.yml";

describe("the workflow policy reads paths as git applies them, whatever the sandbox's git config says", () => {
  let harness: PublishHarness;
  let root: string;
  beforeAll(async () => {
    harness = await createPublishHarness("diff-prefix");
    root = harness.root;
  });
  afterAll(async () => {
    await harness?.close();
  });
  const coderRan = (name: string, installationId: number, coder: string) => harness.coderRan(name, installationId, coder);

  async function expectRefused(run: Awaited<ReturnType<typeof coderRan>>, path: string) {
    const refused = await failureOf(run.publish());
    expect(isPermanent(refused)).toBe(true);
    expect(refused.message).toContain("the change touches protected paths");
    expect(refused.message).toContain(path);
    expect(run.branches()).toEqual(["refs/heads/main"]);
  }

  it("refuses a workflow written with diff.mnemonicPrefix set, and pushes nothing", { timeout: 120_000 }, async () => {
    const run = await coderRan("mnemonic", 51_001, `git config diff.mnemonicPrefix true && ${evilWorkflow}`);
    try {
      await expectRefused(run, ".github/workflows/evil.yml");
    } finally {
      await run.done();
    }
  });

  it("refuses a workflow written with diff.noprefix set, and pushes nothing", { timeout: 120_000 }, async () => {
    const run = await coderRan("noprefix", 51_002, `git config diff.noprefix true && ${evilWorkflow}`);
    try {
      await expectRefused(run, ".github/workflows/evil.yml");
    } finally {
      await run.done();
    }
  });

  it("refuses a rename of an allowed file into .github/workflows", { timeout: 120_000 }, async () => {
    const run = await coderRan("rename", 51_003, "git config diff.renames copies && mkdir -p .github/workflows && mv docs/ci.yml .github/workflows/ci.yml");
    try {
      await expectRefused(run, ".github/workflows/ci.yml");
    } finally {
      await run.done();
    }
  });

  it("commits a file at the path the coder wrote, not one component shorter, under diff.noprefix", { timeout: 120_000 }, async () => {
    // Without prefixes, `git apply` strips `x/` and would commit `.github/workflows/evil.yml`.
    const run = await coderRan("nested", 51_004, "git config diff.noprefix true && mkdir -p x/.github/workflows && printf 'on: push\\n' > x/.github/workflows/evil.yml");
    try {
      await run.publish();
      const [, branch] = run.branches();
      expect(branch).toMatch(/^refs\/heads\/tasks\//);
      expect(git(run.repoPath, "ls-tree", "-r", "--name-only", branch!).split("\n").sort()).toEqual(["README.md", "docs/ci.yml", "x/.github/workflows/evil.yml"]);
    } finally {
      await run.done();
    }
  });

  it("refuses a diff whose text names other files than git applies from it", async () => {
    const repo = path.join(root, "mismatch");
    await mkdir(path.join(repo, "src"), { recursive: true });
    git(repo, "init", "--quiet", "--initial-branch=main");
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "base");
    const base = git(repo, "rev-parse", "HEAD");
    const clone = path.join(root, "mismatch-clone");
    git(root, "clone", "--quiet", repo, clone);
    await writeFile(path.join(repo, "src", "a.ts"), "export {};\n");
    git(repo, "add", "--all");
    const patch = `${git(repo, "-c", "diff.mnemonicPrefix=true", "diff", "--cached", "--binary", base)}\n`;
    expect(patch).toContain("+++ i/src/a.ts");

    const controlGit = createGit({ env: gitEnv });
    await controlGit.applyPatch(clone, patch);
    const refusal = refuseCommittedPaths(patch, await controlGit.stagedNameStatus(clone, base));
    expect(refusal).toContain("does not name the files git applies");
    expect(refusal).toContain('applied but not named: "src/a.ts"');
    expect(refusal).toContain('named but not applied: "i/src/a.ts"');
  });
});
