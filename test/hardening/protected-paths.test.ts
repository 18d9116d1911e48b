// A task branch lives in the base repository, so its CI runs the agent's code with the
// repository's secrets: only `.github/workflows/` was refused, while actions, CODEOWNERS and
// dependabot settings under `.github/` (and whatever a repository itself wants kept from agents)
// went out. Now everything under `.github/` is refused by default and `.github/tasks.yml` adds
// `protected_paths` globs; a refusal names the path and why, and nothing is pushed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPermanent } from "../../src/lib/errors.ts";
import { failureOf } from "../agent/test-sandboxes.ts";
import { createPublishHarness, git, type CoderRun, type PublishHarness } from "./publish-harness.ts";

describe("protected paths", () => {
  let harness: PublishHarness;
  beforeAll(async () => {
    harness = await createPublishHarness("protected-paths");
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function expectRefused(run: CoderRun, ...reasons: RegExp[]) {
    try {
      const refused = await failureOf(run.publish());
      expect(isPermanent(refused)).toBe(true);
      expect(refused.message).toMatch(/^publishing refused: the change touches protected paths/);
      for (const reason of reasons) expect(refused.message).toMatch(reason);
      expect(run.branches()).toEqual(["refs/heads/main"]);
    } finally {
      await run.done();
    }
  }

  it.each([
    ["codeowners", 53_001, "mkdir -p .github && echo '* @attacker' > .github/CODEOWNERS", /`\.github\/CODEOWNERS` \(under `\.github\/`, protected by default\)/],
    ["action", 53_002, "mkdir -p .github/actions/setup && echo 'runs: {using: node20, main: x.js}' > .github/actions/setup/action.yml", /\.github\/actions\/setup\/action\.yml/],
    ["dependabot", 53_003, "printf 'version: 2\\n' > .github/dependabot.yml", /\.github\/dependabot\.yml/],
    ["tasks-config", 53_004, "printf 'protected_paths: []\\n' > .github/tasks.yml", /\.github\/tasks\.yml/],
  ])("refuses a change under .github/ (%s) by default", { timeout: 120_000 }, async (name, installation, coder, reason) => {
    const run = await harness.coderRan(name, installation, coder, { files: { ".github/tasks.yml": "" } });
    await expectRefused(run, reason);
  });

  it("refuses what tasks.yml's protected_paths names, saying which glob, and publishes the rest elsewhere", { timeout: 180_000 }, async () => {
    const config = { ".github/tasks.yml": "protected_paths:\n  - infra/**\n  - '**/*.pem'\n", "infra/main.tf": "# vpc\n" };
    const refused = await harness.coderRan("globs", 53_005, "echo '# changed' >> infra/main.tf && echo x > src.txt", { files: config });
    await expectRefused(refused, /`infra\/main\.tf` \(matches `infra\/\*\*` in protected_paths of \.github\/tasks\.yml\)/);

    const allowed = await harness.coderRan("globs-ok", 53_006, "echo x > src.txt", { files: config });
    try {
      await allowed.publish();
      const [, branch] = allowed.branches();
      expect(git(allowed.repoPath, "show", `${branch}:src.txt`)).toBe("x");
    } finally {
      await allowed.done();
    }
  });
});
