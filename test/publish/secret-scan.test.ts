import { lintSource } from "@secretlint/core";
import { creator as recommendedPreset } from "@secretlint/secretlint-rule-preset-recommend";
import { describe, expect, it } from "vitest";
import { secretlintConfig } from "../../src/publish/secret-rules.ts";
import { formatFindings, redactSecrets, scanChangedFiles, scanFileNames, scanForSecrets, type SecretFinding } from "../../src/publish/secret-scan.ts";
import { ed25519PrivateKeyPem, encryptedPrivateKeyPem, fake, rsaPrivateKeyPem } from "./fake-secrets.ts";

const rsaKey = rsaPrivateKeyPem();
const ed25519Key = ed25519PrivateKeyPem();
const encryptedKey = encryptedPrivateKeyPem();

/** Which rule catches which sample: secretlint's own rules first, then the supplement's gaps. */
const samples: { name: string; text: string; secret: string; rule: string; message: string }[] = [
  { name: "classic GitHub token", text: `token: ${fake.githubClassic}`, secret: fake.githubClassic, rule: "@secretlint/secretlint-rule-github", message: "GitHub token" },
  { name: "installation token", text: `GITHUB_TOKEN: ${fake.githubInstallation}`, secret: fake.githubInstallation, rule: "@secretlint/secretlint-rule-github", message: "GitHub token" },
  { name: "fine-grained GitHub token", text: `GH_TOKEN=${fake.githubFineGrained}`, secret: fake.githubFineGrained, rule: "@secretlint/secretlint-rule-github", message: "GitHub token" },
  { name: "AWS access key ID", text: `aws_access_key_id = ${fake.awsAccessKeyId}`, secret: fake.awsAccessKeyId, rule: "@secretlint/secretlint-rule-aws", message: "AWS access key ID" },
  { name: "AWS secret access key", text: `aws_secret_access_key = ${fake.awsSecretAccessKey}`, secret: fake.awsSecretAccessKey, rule: "@secretlint/secretlint-rule-aws", message: "AWS secret access key" },
  { name: "RSA private key", text: rsaKey, secret: rsaKey.split("\n")[1]!, rule: "@secretlint/secretlint-rule-privatekey", message: "private key" },
  { name: "Slack bot token", text: `SLACK_TOKEN=${fake.slackBot}`, secret: fake.slackBot, rule: "@secretlint/secretlint-rule-slack", message: "Slack token" },
  { name: "Anthropic API key", text: `ANTHROPIC_API_KEY=${fake.anthropicApi}`, secret: fake.anthropicApi, rule: "@secretlint/secretlint-rule-anthropic", message: "Anthropic API key" },
  { name: "OpenAI project key", text: `OPENAI_API_KEY=${fake.openaiProject}`, secret: fake.openaiProject, rule: "@secretlint/secretlint-rule-openai", message: "OpenAI API key" },
];

/** Samples secretlint 12's recommended rules miss; the supplement exists for these. */
const gaps: typeof samples = [
  { name: "installation token longer than 36", text: `token ${fake.githubInstallationLonger}`, secret: fake.githubInstallationLonger, rule: "tasks/github-token", message: "GitHub token" },
  { name: "Anthropic OAuth token (claude runtime)", text: `CLAUDE_CODE_OAUTH_TOKEN=${fake.anthropicOauth}`, secret: fake.anthropicOauth, rule: "tasks/anthropic-key", message: "Anthropic key" },
  { name: "OpenAI project key without the T3BlbkFJ marker", text: `key ${fake.openaiProjectUnmarked}`, secret: fake.openaiProjectUnmarked, rule: "tasks/openai-key", message: "OpenAI API key" },
  { name: "Tasks model-gateway run token", text: `ANTHROPIC_API_KEY=${fake.gatewayRunToken}`, secret: fake.gatewayRunToken, rule: "tasks/run-token", message: "Tasks model-gateway run token" },
  { name: "Ed25519 private key", text: ed25519Key, secret: ed25519Key.split("\n")[1]!, rule: "tasks/private-key", message: "private key" },
  { name: "encrypted private key", text: encryptedKey, secret: encryptedKey.split("\n")[1]!, rule: "tasks/private-key", message: "private key" },
];

async function secretlintAlone(text: string) {
  const result = await lintSource({
    source: { content: text, filePath: "sample.txt", contentType: "text" },
    options: { config: secretlintConfig, noPhysicFilePath: true },
  });
  return result.messages;
}

function expectNoSecretIn(findings: SecretFinding[], secret: string): void {
  const shown = JSON.stringify(findings) + formatFindings(findings);
  expect(shown).not.toContain(secret);
  expect(shown).not.toContain(secret.slice(-12));
}

describe("scanForSecrets", () => {
  it.each(samples)("finds a $name with secretlint's rule", async ({ text, secret, rule, message }) => {
    const findings = await scanForSecrets([{ where: "PR body", text: `Summary\n\n${text}\n` }]);

    expect(findings).toEqual([{ where: "PR body", line: 3, rule, message }]);
    expectNoSecretIn(findings, secret);
  });

  it.each(gaps)("finds a $name, which secretlint alone misses, with the supplement", async ({ text, secret, rule, message }) => {
    expect(await secretlintAlone(text)).toEqual([]);

    const findings = await scanForSecrets([{ where: "comment", text }]);

    expect(findings).toEqual([{ where: "comment", line: 1, rule, message }]);
    expectNoSecretIn(findings, secret);
  });

  it("reports a secret once when secretlint and the supplement both match it", async () => {
    const findings = await scanForSecrets([{ where: "comment", text: `${fake.anthropicApi}\n${rsaKey}` }]);

    expect(findings.map((finding) => [finding.line, finding.rule])).toEqual([
      [1, "@secretlint/secretlint-rule-anthropic"],
      [2, "@secretlint/secretlint-rule-privatekey"],
    ]);
  });

  it("reports each rule that matches: a token in a remote URL is also a password in a URL", async () => {
    const text = `git remote set-url origin https://x-access-token:${fake.githubInstallation}@github.com/acme/app.git`;

    const findings = await scanForSecrets([{ where: "check run Code", text }]);

    expect(findings.map((finding) => finding.rule)).toEqual(["@secretlint/secretlint-rule-basicauth", "@secretlint/secretlint-rule-github"]);
    expectNoSecretIn(findings, fake.githubInstallation);
  });

  it("does not let a secretlint-disable comment in the text hide a token", async () => {
    const text = `<!-- secretlint-disable -->\n${fake.githubClassic}\n<!-- secretlint-enable -->`;
    // Through the preset (whose comment filter cannot be disabled in secretlint 12) the token vanishes.
    const viaPreset = await lintSource({
      source: { content: text, filePath: "comment.md", contentType: "text" },
      options: { config: { rules: [{ id: recommendedPreset.meta.id, rule: recommendedPreset }] }, noPhysicFilePath: true },
    });
    expect(viaPreset.messages).toEqual([]);

    const findings = await scanForSecrets([{ where: "check run Code", text }]);

    expect(findings).toEqual([{ where: "check run Code", line: 2, rule: "@secretlint/secretlint-rule-github", message: "GitHub token" }]);
  });

  it("finds nothing in clean text, placeholders and documentation examples", async () => {
    const text = [
      "Rotated the token and the password; see the docs for the private key format.",
      "Set GITHUB_TOKEN=ghp_xxxxxxxxxxxx and ANTHROPIC_API_KEY=sk-ant-api03-... in .env.",
      "AWS_ACCOUNT_ID=123456789012, example key AKIAIOSFODNN7EXAMPLE",
      "-----BEGIN RSA PRIVATE KEY-----",
      "...",
      "-----END RSA PRIVATE KEY-----",
      "postgres://localhost:5432/app",
    ].join("\n");

    expect(await scanForSecrets([{ where: "PR body", text }, { where: "comment", text: "" }])).toEqual([]);
  });

  it("keeps the place of each item and numbers lines within it", async () => {
    const findings = await scanForSecrets([
      { where: "PR body", text: "clean" },
      { where: "comment", text: `one\ntwo\n${fake.slackBot} and ${fake.githubClassic}` },
    ]);

    expect(findings.map(({ where, line, rule }) => ({ where, line, rule }))).toEqual([
      { where: "comment", line: 3, rule: "@secretlint/secretlint-rule-slack" },
      { where: "comment", line: 3, rule: "@secretlint/secretlint-rule-github" },
    ]);
  });
});

describe("scanChangedFiles", () => {
  const before = [`const removedLater = "${fake.slackBot}";`, `const oldToken = "${fake.githubClassic}";`, "export {};", ""].join("\n");
  const after = [`const removedLater = "${fake.slackBot}";`, "const newToken = process.env.GITHUB_TOKEN;", "export {};", `// ${fake.awsAccessKeyId}`, `+++ b/${fake.githubInstallation}`, ""].join("\n");

  it("reads the whole new file, numbered as in it, and lets values the file already held pass", async () => {
    const findings = await scanChangedFiles([
      { path: "src/config.ts", oldBytes: async () => before, newBytes: after },
      { path: "notes/new file.md", oldBytes: async () => null, newBytes: `# Notes\ntoken ${fake.anthropicOauth}\n` },
      { path: "old.txt", oldBytes: async () => fake.openaiProject, newBytes: "" },
    ]);

    expect(findings).toEqual([
      { where: "file: src/config.ts", line: 4, rule: "@secretlint/secretlint-rule-aws", message: "AWS access key ID" },
      { where: "file: src/config.ts", line: 5, rule: "@secretlint/secretlint-rule-github", message: "GitHub token" },
      { where: "file: notes/new file.md", line: 2, rule: "tasks/anthropic-key", message: "Anthropic key" },
    ]);
    for (const secret of Object.values(fake)) expectNoSecretIn(findings, secret);
  });

  it("reads a file's old bytes only when its new bytes hold a finding", async () => {
    const reads: string[] = [];
    const old = (path: string, text: string) => async () => (reads.push(path), text);
    await scanChangedFiles([
      { path: "clean.ts", oldBytes: old("clean.ts", "export {};\n"), newBytes: "export const x = 1;\n" },
      { path: "leaky.ts", oldBytes: old("leaky.ts", "export {};\n"), newBytes: `const t = "${fake.githubClassic}";\n` },
    ]);
    expect(reads).toEqual(["leaky.ts"]);
  });

  it("sees a private key across lines and reports its first line", async () => {
    expect(await scanChangedFiles([{ path: "deploy/key.pem", oldBytes: async () => null, newBytes: `# deploy key\n${rsaKey}` }])).toEqual([
      { where: "file: deploy/key.pem", line: 2, rule: "@secretlint/secretlint-rule-privatekey", message: "private key" },
    ]);
  });

  it("reads bytes git would call binary: after a NUL byte, and UTF-16", async () => {
    const utf16 = Buffer.from(`key=${fake.githubClassic}`, "utf16le").toString("latin1");
    const findings = await scanChangedFiles([
      { path: "a.bin", oldBytes: async () => null, newBytes: `\0\u00ff\u00fe${fake.githubClassic}` },
      { path: "b.txt", oldBytes: async () => null, newBytes: utf16 },
    ]);
    expect(findings.map((finding) => finding.where)).toEqual(["file: a.bin", "file: b.txt"]);
  });

  it("shows a path that holds a secret in its redacted form", async () => {
    const path = `cache/${fake.githubClassic}.json`;
    const names = await scanFileNames(["src/ok.ts", path]);
    expect(names.findings).toHaveLength(1);
    expect(names.findings[0]!.where).toMatch(/^file name: cache\/\[redacted: .*\]\.json$/);
    expectNoSecretIn(names.findings, fake.githubClassic);
    const inFile = await scanChangedFiles([{ path, shownPath: names.shown.get(path)!, oldBytes: async () => null, newBytes: fake.githubClassic }]);
    expectNoSecretIn(inFile, fake.githubClassic);
  });
});

describe("formatFindings", () => {
  it("lists place, line and kind, with paths kept inside code spans", () => {
    const markdown = formatFindings([
      { where: "diff: src/config.ts", line: 12, rule: "@secretlint/secretlint-rule-github", message: "GitHub token" },
      { where: "diff: docs/`odd`\nname.md", line: 3, rule: "tasks/private-key", message: "private key" },
    ]);

    expect(markdown).toBe(
      [
        "- `diff: src/config.ts`, line 12: GitHub token (`@secretlint/secretlint-rule-github`)",
        "- ``diff: docs/`odd` name.md``, line 3: private key (`tasks/private-key`)",
      ].join("\n"),
    );
  });

  it("is empty without findings", () => {
    expect(formatFindings([])).toBe("");
  });
});

describe("redactSecrets", () => {
  it.each(samples)("replaces a $name by the rule's name and keeps the text around it", async ({ text, secret, rule }) => {
    const { text: redacted, rules } = await redactSecrets(`before\n${text}\nafter`, "agent output");
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain(`[redacted: ${rule}]`);
    expect(redacted.startsWith("before\n") && redacted.endsWith("\nafter")).toBe(true);
    expect(rules).toContain(rule);
  });

  it("redacts every secret of a text and leaves clean text as it was", async () => {
    const text = `a=${fake.githubClassic} b=${fake.slackBot}`;
    expect(await redactSecrets(text, "agent output")).toEqual({
      text: "a=[redacted: @secretlint/secretlint-rule-github] b=[redacted: @secretlint/secretlint-rule-slack]",
      rules: ["@secretlint/secretlint-rule-github", "@secretlint/secretlint-rule-slack"],
    });
    expect(await redactSecrets("nothing to see", "agent output")).toEqual({ text: "nothing to see", rules: [] });
  });
});
