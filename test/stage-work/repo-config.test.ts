import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/stage-work/repo-config.ts";

describe(".github/tasks.yml", () => {
  it("is optional", () => {
    expect(parseRepoConfig(null)).toEqual({});
    expect(parseRepoConfig("\n# nothing\n")).toEqual({});
  });

  it("reads every setting", () => {
    const config = parseRepoConfig(`
base_branch: develop
setup:
  commands: ["npm ci"]
  timeout_seconds: 300
agent: { runtime: command, model: opus }
pull_request: { draft: false, labels: [tasks] }
`);
    expect(config).toEqual({
      base_branch: "develop",
      setup: { commands: ["npm ci"], timeout_seconds: 300 },
      agent: { runtime: "command", model: "opus" },
      pull_request: { draft: false, labels: ["tasks"] },
    });
  });

  it.each([
    ["base_branch: 'has space'", ".github/tasks.yml: base_branch"],
    ["setup: { commands: npm ci }", ".github/tasks.yml: setup.commands"],
    ["agent: { runtime: gpt }", ".github/tasks.yml: agent.runtime"],
    ["pull_request: { draft: maybe }", ".github/tasks.yml: pull_request.draft"],
    ["colour: blue", ".github/tasks.yml: colour is not a known setting"],
    ["setup: [oops", ".github/tasks.yml is not valid YAML"],
  ])("fails %j naming the file and the field", (text, message) => {
    expect(() => parseRepoConfig(text)).toThrow(message);
  });
});
