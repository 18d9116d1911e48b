// Agent output is secret-scanned before it reaches GitHub (ARCHITECTURE.md, untrusted compute).
// A finding says where and what kind, never the value: findings are shown on GitHub and logged.
import { lintSource } from "@secretlint/core";
import { secretlintConfig, secretlintLabels, supplementPatterns } from "./secret-rules.ts";

export interface ScanItem {
  /** The place the text is headed for: "diff: src/config.ts", "PR body", "comment", "check run Code". */
  where: string;
  text: string;
}

export interface SecretFinding {
  where: string;
  /** 1-based line within the item (within the new file for a diff). */
  line: number;
  /** The secretlint rule id, or `tasks/…` for a supplement pattern. */
  rule: string;
  /** What kind of secret, in plain words; never the secret. */
  message: string;
}

interface Hit {
  line: number;
  rule: string;
  message: string;
  range: readonly [number, number];
}

export async function scanForSecrets(items: ScanItem[]): Promise<SecretFinding[]> {
  const perItem = await Promise.all(
    items.map(async ({ where, text }) => (await findSecrets(text, where)).map((hit) => toFinding(where, hit.line, hit))),
  );
  return perItem.flat();
}

/** A file as git will commit it: its bytes before and after, one latin1 character per byte. */
export interface ChangedFileBytes {
  path: string;
  /** The path as findings show it, when the path itself holds a secret. */
  shownPath?: string;
  newBytes: string;
  /** The bytes before the change (null for an added file), read only for a file with a finding. */
  oldBytes: () => Promise<string | null>;
}

/**
 * Scans the whole new content of each changed file, binary or not (a NUL byte or a
 * `.gitattributes` `binary` entry hides a text diff's lines, not the bytes). A value the file
 * already held before the change is not the agent's doing and does not count. Text with NUL
 * bytes is also read without them, which exposes UTF-16.
 */
export async function scanChangedFiles(files: ChangedFileBytes[]): Promise<SecretFinding[]> {
  const perFile = await Promise.all(
    files.map(async (file) => {
      const readings = file.newBytes.includes("\0") ? [file.newBytes, file.newBytes.replace(/\0/g, "")] : [file.newBytes];
      const hits: Hit[] = [];
      let old: Promise<string | null> | undefined;
      for (const [index, text] of readings.entries()) {
        for (const hit of await findSecrets(text, file.path)) {
          const value = text.slice(hit.range[0], hit.range[1]);
          const oldBytes = await (old ??= file.oldBytes());
          const before = index === 0 ? oldBytes : (oldBytes?.replace(/\0/g, "") ?? null);
          if (before !== null && value !== "" && before.includes(value)) continue;
          if (hits.some((known) => known.rule === hit.rule && known.line === hit.line)) continue;
          hits.push(hit);
        }
      }
      return hits.map((hit) => toFinding(`file: ${file.shownPath ?? file.path}`, hit.line, hit));
    }),
  );
  return perFile.flat();
}

/**
 * Scans file names (a path can carry a token as well as a file can): one finding per name, and
 * for each name with a finding the form to show, the secret replaced (findings are published).
 */
export async function scanFileNames(paths: string[]): Promise<{ findings: SecretFinding[]; shown: Map<string, string> }> {
  if (paths.length === 0) return { findings: [], shown: new Map() };
  const hits = await findSecrets(paths.join("\n"), "file names");
  const shown = new Map<string, string>();
  for (const hit of hits) {
    const path = paths[hit.line - 1] ?? "";
    if (!shown.has(path)) shown.set(path, (await redactSecrets(path, "file name")).text);
  }
  return { findings: hits.map((hit) => toFinding(`file name: ${shown.get(paths[hit.line - 1] ?? "") ?? ""}`, 1, hit)), shown };
}

function toFinding(where: string, line: number, hit: Hit): SecretFinding {
  return { where, line, rule: hit.rule, message: hit.message };
}

/**
 * The text with each secret the scan finds replaced by `[redacted: <rule>]`, and the rules that
 * matched: for text that is stored whatever it holds (the agent's live log), where withholding it
 * all would hide the log.
 */
export async function redactSecrets(rawText: string, where: string): Promise<{ text: string; rules: string[] }> {
  const text = withoutBom(rawText);
  const hits = await findSecretsIn(text, where);
  if (hits.length === 0) return { text: rawText, rules: [] };
  let redacted = "";
  let cursor = 0;
  for (const hit of [...hits].sort((a, b) => a.range[0] - b.range[0])) {
    if (hit.range[1] <= cursor) continue;
    redacted += `${text.slice(cursor, Math.max(cursor, hit.range[0]))}[redacted: ${hit.rule}]`;
    cursor = hit.range[1];
  }
  return { text: redacted + text.slice(cursor), rules: [...new Set(hits.map((hit) => hit.rule))] };
}

// secretlint drops a leading BOM before matching; dropping it here keeps both kinds of hit in one coordinate system.
const withoutBom = (text: string): string => (text.startsWith("\uFEFF") ? text.slice(1) : text);

async function findSecrets(rawText: string, path: string): Promise<Hit[]> {
  return findSecretsIn(withoutBom(rawText), path);
}

async function findSecretsIn(text: string, path: string): Promise<Hit[]> {
  const fromSecretlint = await runSecretlint(text, path);
  const extra = runSupplement(text).filter((hit) => !fromSecretlint.some((known) => overlaps(known.range, hit.range)));
  return [...fromSecretlint, ...extra].sort((a, b) => a.line - b.line || a.range[0] - b.range[0]);
}

async function runSecretlint(text: string, path: string): Promise<Hit[]> {
  const result = await lintSource({
    source: {
      content: text,
      filePath: path,
      // The ext picks file-format checks. Never ".p12": for it the GCP rule reads `filePath` from the
      // control plane's disk, and the path comes from the sandbox.
      ext: path.toLowerCase().endsWith(".json") ? ".json" : "",
      contentType: "text",
    },
    options: { config: secretlintConfig, maskSecrets: true, noPhysicFilePath: true },
  });
  return result.messages.map((message) => ({
    line: message.loc.start.line,
    rule: message.ruleId,
    message: secretlintLabels[message.messageId] ?? `possible secret (${message.messageId})`,
    range: message.range,
  }));
}

function runSupplement(text: string): Hit[] {
  const lineStarts = [0];
  for (let index = text.indexOf("\n"); index !== -1; index = text.indexOf("\n", index + 1)) lineStarts.push(index + 1);
  return supplementPatterns.flatMap(({ rule, label, pattern }) =>
    [...text.matchAll(pattern)].map((match): Hit => {
      const start = match.index;
      return { line: lineOf(lineStarts, start), rule, message: label, range: [start, start + match[0].length] };
    }),
  );
}

function lineOf(lineStarts: number[], offset: number): number {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (lineStarts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

function overlaps(a: readonly [number, number], b: readonly [number, number]): boolean {
  return a[0] < b[1] && b[0] < a[1];
}

/** A markdown list of where secrets were found (place and line, kind of secret); "" when there are none. */
export function formatFindings(findings: SecretFinding[]): string {
  return findings
    .map((finding) => `- ${codeSpan(finding.where)}, line ${finding.line}: ${finding.message} (${codeSpan(finding.rule)})`)
    .join("\n");
}

/** `where` may hold a file path from the sandbox: kept on one line, in a code span that its own backticks cannot close. */
function codeSpan(text: string): string {
  const oneLine = text.replace(/\p{Cc}+/gu, " ");
  const longestRun = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const padding = oneLine.startsWith("`") || oneLine.endsWith("`") ? " " : "";
  return `${fence}${padding}${oneLine}${padding}${fence}`;
}
