// Agent-written markdown on its way to GitHub: neutralised (publish/neutralise-markdown.ts), then
// cut to GitHub's limit. A cut can land mid-line, inside what was a code span (`` `@org/team` ``
// becomes `@org/team`` ` ``), so what is kept is neutralised again as it now stands; that second
// pass can make it longer, so the cut is retried with less room until the result fits.
import { neutraliseMarkdown } from "../publish/neutralise-markdown.ts";
import { truncateMarkdown, type TruncateOptions } from "./github-limits.ts";

export interface AgentMarkdownOptions extends TruncateOptions {
  /** Logins whose mentions stay live: the person who triggered the task. */
  mentionable?: readonly (string | null | undefined)[] | undefined;
}

const attempts = 4;

/** `text` made inert and sized for GitHub; `maxChars` or `maxBytes` must be given. */
export function publishableMarkdown(text: string, options: AgentMarkdownOptions): string {
  const { mentionable, ...truncate } = options;
  if (truncate.maxChars === undefined && truncate.maxBytes === undefined) throw new RangeError("publishableMarkdown needs maxChars or maxBytes");
  const neutralise = (value: string) => neutraliseMarkdown(value, { mentionable: mentionable ?? [] });
  const inert = neutralise(text);
  if (excess(inert, truncate) <= 0) return inert;
  let shrink = 0;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let kept: string;
    try {
      kept = neutralise(truncateMarkdown(inert, shrunk(truncate, shrink)));
    } catch (error) {
      if (error instanceof RangeError) break; // no room left for the notice
      throw error;
    }
    const over = excess(kept, truncate);
    if (over <= 0) return kept;
    shrink += Math.max(over, 1024);
  }
  // Not reached in practice (each retry sets aside more than the last one overflowed by); what
  // goes out must still be inert and within the limit.
  return neutralise(truncateMarkdown("(output withheld: too long to show safely)", truncate));
}

function excess(text: string, limits: TruncateOptions): number {
  const chars = limits.maxChars === undefined ? -Infinity : text.length - limits.maxChars;
  const bytes = limits.maxBytes === undefined ? -Infinity : Buffer.byteLength(text) - limits.maxBytes;
  return Math.max(chars, bytes);
}

function shrunk(limits: TruncateOptions, by: number): TruncateOptions {
  return {
    ...limits,
    ...(limits.maxChars === undefined ? {} : { maxChars: Math.max(1, limits.maxChars - by) }),
    ...(limits.maxBytes === undefined ? {} : { maxBytes: Math.max(1, limits.maxBytes - by) }),
  };
}
