// The pull request's description. Layout (top to bottom):
//   hidden marker · Summary · Plan (folded) · Review notes · the repository's own template · footer
// The repository's template is kept verbatim under its own heading, below Tasks' sections, not
// filled in: templates are free-form (checklists, HTML comments, prompts for humans), and the
// person who reviews and un-drafts the PR is the one who can honestly tick them.
// The footer (`Closes #N`, the task link) is never truncated away: only the text above it is cut.
// Everything above the footer is neutralised (agent-markdown.ts), the template included: agent
// text before it can change how it reads (an unclosed `<pre>` turns the rest into raw HTML).
import { publishableMarkdown } from "./agent-markdown.ts";
import { maxBodyChars } from "./github-limits.ts";

/** GitHub rejects a pull request body longer than this. */
export const maxPullRequestBodyChars = maxBodyChars;

export interface PullRequestBodyInput {
  summary: string;
  plan?: string | null;
  reviewNotes?: string | null;
  issueNumber?: number | null;
  /** The task's page; null where there is no server to link to (a local run). */
  taskUrl: string | null;
  slug: string;
  /** The repository's pull request template, from `readPullRequestTemplate`. */
  template?: string | null;
  /** Logins whose @-mentions stay live (the person the task is for); every other one is made inert. */
  mentionable?: readonly (string | null | undefined)[];
}

export const pullRequestMarker = (slug: string): string => `<!-- tasks:pull-request ${slug} -->`;

// "Closes #12" (and fixes/resolves, any case) in a PR body closes that issue on merge. Only the
// footer may say which issue the PR closes; in agent-written text the keyword is defused.
const closingReference = /\b(close[sd]?|fix(?:e[sd])?|resolve[sd]?)(:?\s+)((?:[\w.-]+\/[\w.-]+)?#\d+)/gi;

export function defuseClosingKeywords(text: string): string {
  return text.replace(closingReference, (_match, keyword: string, space: string, reference: string) => `${keyword}${space}\`${reference}\``);
}

export function renderPullRequestBody(input: PullRequestBodyInput): string {
  const agentText = (text: string | null | undefined) => (text ? defuseClosingKeywords(text) : text);
  const plan = agentText(input.plan);
  const sections = [
    pullRequestMarker(input.slug),
    section("## Summary", agentText(input.summary)),
    plan?.trim() ? `## Plan\n\n<details>\n<summary>The plan the agent followed</summary>\n\n${plan.trim()}\n\n</details>` : "",
    section("## Review notes", agentText(input.reviewNotes)),
    section("## From the repository's pull request template", input.template),
  ].filter((part) => part !== "");

  const footer = [
    "---",
    ...(input.issueNumber ? [`Closes #${input.issueNumber}`] : []),
    input.taskUrl ? `Opened by Tasks for [${input.slug}](${input.taskUrl}).` : `Opened by Tasks for ${input.slug}.`,
  ].join("\n");
  const separator = "\n\n";
  const head = publishableMarkdown(sections.join(separator), {
    maxChars: maxPullRequestBodyChars - footer.length - separator.length,
    keep: "head",
    mentionable: input.mentionable,
  });
  return `${head}${separator}${footer}`;
}

function section(heading: string, text: string | null | undefined): string {
  const body = text?.trim();
  return body ? `${heading}\n\n${body}` : "";
}
