// GitHub rejects an issue, PR or comment body over 65,536 characters and check-run output
// (summary, text) over 65,535 bytes, so long agent output is cut to fit, with a notice.
// Characters are counted as UTF-16 code units, never fewer than the code points GitHub counts.
import { openFenceAfter, togglesFence, type OpenFence } from "../publish/markdown-fences.ts";

export const maxBodyChars = 65_536;
export const maxCheckOutputBytes = 65_535;

export interface TruncateOptions {
  /** Default: {@link maxBodyChars} when `maxBytes` is not given either. */
  maxChars?: number;
  /** UTF-8 bytes. */
  maxBytes?: number;
  /** Bodies keep the head; check-run summaries keep the tail of agent output, where its conclusion is. */
  keep?: "head" | "tail";
  /** `{omitted}` becomes the number of characters cut. */
  notice?: string;
}

interface Size {
  chars: number;
  bytes: number;
}

const defaultNotice = "… (truncated: {omitted} characters omitted)";
const separator = "\n\n";
/** How far a cut may move to land on a line break, so no half line is left behind. */
const lineSlack = 240;

export function truncateMarkdown(text: string, options: TruncateOptions = {}): string {
  const limits: Size = {
    chars: options.maxChars ?? (options.maxBytes === undefined ? maxBodyChars : Infinity),
    bytes: options.maxBytes ?? Infinity,
  };
  if (!(limits.chars > 0 && limits.bytes > 0)) throw new RangeError("maxChars and maxBytes must be positive numbers");
  if (fits(text, limits)) return text;
  const template = options.notice ?? defaultNotice;
  const notice = (omitted: number) => template.replaceAll("{omitted}", String(omitted));
  // The notice is sized for the largest count it could show, so the real one always fits.
  const reserved = sizeOf(notice(codePointCount(text)) + separator);
  const cut = options.keep === "tail" ? cutTail : cutHead;
  let extra: Size = { chars: 0, bytes: 0 };
  for (;;) {
    const budget = { chars: limits.chars - reserved.chars - extra.chars, bytes: limits.bytes - reserved.bytes - extra.bytes };
    if (budget.chars < 0 || budget.bytes < 0) throw new RangeError("the limit is too small to hold the truncation notice");
    const { kept, omitted, fenceFix } = cut(text, budget);
    const result = options.keep === "tail" ? notice(omitted) + separator + fenceFix + kept : kept + fenceFix + separator + notice(omitted);
    if (fits(result, limits)) return result;
    // The fence had to be closed or reopened in more room than set aside: set aside more and cut again.
    const needed = sizeOf(fenceFix);
    extra = { chars: Math.max(extra.chars + 1, needed.chars), bytes: Math.max(extra.bytes + 1, needed.bytes) };
  }
}

interface Cut {
  kept: string;
  omitted: number;
  /** A fence closer after a head, or a fence reopener before a tail. */
  fenceFix: string;
}

function cutHead(text: string, budget: Size): Cut {
  let end = headEnd(text, budget);
  const lineBreak = text.lastIndexOf("\n", end);
  if (lineBreak !== -1 && end - lineBreak <= lineSlack) end = lineBreak;
  const kept = text.slice(0, end);
  const open = openFenceAfter(kept);
  const fenceFix = open ? `${kept === "" || kept.endsWith("\n") ? "" : "\n"}${open.marker}` : "";
  return { kept, omitted: codePointCount(text.slice(end)), fenceFix };
}

/** The longest prefix within the budget that splits neither a surrogate pair nor a UTF-8 sequence. */
function headEnd(text: string, budget: Size): number {
  // Every UTF-16 unit takes at least one UTF-8 byte, so the byte budget bounds the units too.
  let end = Math.min(text.length, budget.chars, budget.bytes);
  if (Buffer.byteLength(text.slice(0, end)) > budget.bytes) {
    const bytes = Buffer.from(text.slice(0, end), "utf8");
    let byteEnd = budget.bytes;
    while (byteEnd > 0 && isContinuationByte(bytes[byteEnd]!)) byteEnd--;
    end = bytes.subarray(0, byteEnd).toString("utf8").length;
  }
  if (end > 0 && end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
  return end;
}

function cutTail(text: string, budget: Size): Cut {
  const { start, open } = alignToLine(text, tailStart(text, budget));
  const fenceFix = open ? `${open.marker}${open.info}\n` : "";
  return { kept: text.slice(start), omitted: codePointCount(text.slice(0, start)), fenceFix };
}

/** The earliest start whose suffix fits the budget without splitting a character. */
function tailStart(text: string, budget: Size): number {
  let start = Math.max(0, text.length - budget.chars, text.length - budget.bytes);
  const suffix = text.slice(start);
  if (Buffer.byteLength(suffix) > budget.bytes) {
    const bytes = Buffer.from(suffix, "utf8");
    let byteStart = bytes.length - budget.bytes;
    while (byteStart < bytes.length && isContinuationByte(bytes[byteStart]!)) byteStart++;
    start += bytes.subarray(0, byteStart).toString("utf8").length;
  }
  if (start > 0 && start < text.length && isLowSurrogate(text.charCodeAt(start)) && isHighSurrogate(text.charCodeAt(start - 1))) start++;
  return start;
}

/**
 * Moves a tail's start to the next line when that is near, and works out the fence it starts in.
 * A partial first line must not open or close a fence the original line did not.
 */
function alignToLine(text: string, start: number): { start: number; open: OpenFence | null } {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const before = openFenceAfter(text.slice(0, lineStart));
  if (lineStart === start) return { start, open: before };
  const newline = text.indexOf("\n", start);
  const lineEnd = newline === -1 ? text.length : newline;
  const line = text.slice(lineStart, lineEnd);
  if ((newline !== -1 && lineEnd + 1 - start <= lineSlack) || togglesFence(line, before)) {
    return { start: Math.min(lineEnd + 1, text.length), open: openFenceAfter(line, before) };
  }
  const partial = text.slice(start, lineEnd);
  const fenceLike = togglesFence(partial, before) ? (/^[ `~]+/.exec(partial)?.[0].length ?? 0) : 0;
  return { start: start + fenceLike, open: before };
}

function fits(text: string, limits: Size): boolean {
  return text.length <= limits.chars && (limits.bytes === Infinity || Buffer.byteLength(text) <= limits.bytes);
}

function sizeOf(text: string): Size {
  return { chars: text.length, bytes: Buffer.byteLength(text) };
}

function codePointCount(text: string): number {
  let count = text.length;
  for (let index = 0; index < text.length - 1; index++) {
    if (isHighSurrogate(text.charCodeAt(index)) && isLowSurrogate(text.charCodeAt(index + 1))) {
      count--;
      index++;
    }
  }
  return count;
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
const isContinuationByte = (byte: number) => (byte & 0xc0) === 0x80;
