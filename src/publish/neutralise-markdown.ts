// Agent-written markdown is made inert before GitHub renders it: @-mentions of anyone but the
// person the task is for would notify teams and strangers on the agent's say-so, and an image
// from an outside host leaks data in its URL (GitHub's camo proxy still fetches it from there).
//
// Without a full CommonMark/GFM parser the scanner cannot always know what GitHub will read as
// code, so every decision leans the safe way: text is left alone only where it is certainly code,
// and everything else is neutralised even if that sometimes marks up code too (cosmetic only).
// - Fenced blocks are trusted only while every fence-like line so far opened at column 0 outside
//   raw HTML: an indented or container-nested fence can be closed implicitly by its list or
//   blockquote, after which this scanner and GitHub would disagree about what is inside.
// - A code span is trusted only when it opens and closes on one line, its paragraph had no
//   unmatched or doubtful backtick before it, and nothing in it could belong to an HTML tag,
//   autolink, table cell or math (`<`, `>`, `|`, `$`, a URL earlier in the same word).
// - A mention is wrapped in a code span, written as HTML: `<code>@org/team</code>`. Code keeps the
//   name visible and copyable, where a zero-width character would hide the change and an escape
//   (`\@`, `&#64;`) would still notify: GitHub matches mentions in the rendered text and skips
//   only those inside code, pre and links. The HTML form, unlike backticks, is code inside a raw
//   HTML block too (where backticks are plain text), and holds no backtick that could pair with
//   a code span this scanner misread.
// - Images stay only in the plain form `![alt](url)` with a URL on GitHub's own hosts (below).
//   Reference-style images become reference links whatever they point at: which definition a
//   label resolves to (first wins, Unicode case folding) is too easy to get wrong. HTML media
//   tags (`<img>`, `<picture>`, `<video>`, …) are escaped to text.
// Every step is a single pass with bounded look-ahead: the input is hostile and can be huge.
import { nextFenceState, type OpenFence } from "./markdown-fences.ts";

export interface NeutraliseOptions {
  /** GitHub logins whose mentions stay live: the person who triggered the task. */
  mentionable?: readonly (string | null | undefined)[];
}

export function neutraliseMarkdown(text: string, options: NeutraliseOptions = {}): string {
  const mentionable = new Set(options.mentionable?.filter((login): login is string => !!login).map((login) => login.toLowerCase()) ?? []);
  const out: string[] = [];
  let fence: OpenFence | null = null;
  let fenceTrusted = false;
  let fencesTrusted = true;
  let html: Set<string> | null = null;
  let paragraphClean = true;

  // CommonMark ends a line at \n, \r\n or a lone \r: reading lines any other way would disagree
  // with GitHub about where a fence closes. The separators are kept as they were.
  const pieces = text.split(/(\r\n|\r|\n)/);
  for (let piece = 0; piece < pieces.length; piece += 2) {
    const line = pieces[piece]!;
    const rawLine = line + (pieces[piece + 1] ?? "");
    const inert = (spans: readonly Span[]) => neutraliseLine(line, spans, mentionable) + (pieces[piece + 1] ?? "");

    if (fence) {
      const next = nextFenceState(fence, line);
      out.push(fenceTrusted ? rawLine : inert([]));
      if (!next) paragraphClean = fenceTrusted;
      fence = next;
      continue;
    }
    const blank = line.trim() === "";
    if (html) {
      for (const marker of [...html]) if (line.toLowerCase().includes(marker)) html.delete(marker);
      const start = htmlBlockStart(line);
      if (start?.endMarker && !line.toLowerCase().includes(start.endMarker)) html.add(start.endMarker);
      if (looksLikeFence(line)) fencesTrusted = false;
      if (blank && html.size === 0) {
        html = null;
        paragraphClean = true;
      }
      out.push(inert([]));
      continue;
    }
    if (blank) {
      paragraphClean = true;
      out.push(rawLine);
      continue;
    }
    const opened = nextFenceState(null, line);
    if (opened) {
      fence = opened;
      fenceTrusted = fencesTrusted && (line.startsWith("`") || line.startsWith("~"));
      if (!fenceTrusted) fencesTrusted = false;
      out.push(fenceTrusted ? rawLine : inert([]));
      paragraphClean = false;
      continue;
    }
    if (looksLikeFence(line)) fencesTrusted = false;
    const start = htmlBlockStart(line);
    if (start) {
      html = new Set(start.endMarker && !line.toLowerCase().includes(start.endMarker) ? [start.endMarker] : []);
      paragraphClean = false;
      out.push(inert([]));
      continue;
    }
    const code = trustedCodeSpans(line, paragraphClean);
    paragraphClean = code.clean;
    out.push(inert(code.spans));
  }
  return out.join("");
}

/**
 * The allow-list: https on github.com or *.githubusercontent.com (uploads, avatars, raw files),
 * no credentials or port, or a URL relative to the repository (GitHub resolves it on its own
 * host). Anything else is outside, GitHub Enterprise hosts included.
 */
export function isGitHubImageUrl(url: string): boolean {
  // An entity (`&#58;`, `&#64;`) or backslash is decoded by the renderer and could change the host.
  if (url === "" || url.includes("\\") || /&[#A-Za-z0-9]+;/.test(url)) return false;
  // Relative to the repository (`docs/a.png`, `/owner/repo/raw/…`): resolved on github.com.
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) return !url.startsWith("//") && !url.startsWith("/\\");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase();
  const github = host === "github.com" || host.endsWith(".githubusercontent.com");
  return parsed.protocol === "https:" && github && parsed.username === "" && parsed.password === "" && parsed.port === "";
}

type Span = readonly [start: number, end: number];

/** A line outside code: mentions wrapped, outside images made links, media tags escaped. */
function neutraliseLine(line: string, spans: readonly Span[], mentionable: ReadonlySet<string>): string {
  const out: string[] = [];
  let spanIndex = 0;
  let urlUntil = 0;
  let index = 0;
  while (index < line.length) {
    // A span is skipped only from its opening backtick; one jumped over is neutralised like text.
    while (spanIndex < spans.length && spans[spanIndex]![0] < index) spanIndex++;
    const span = spans[spanIndex];
    if (span && index === span[0]) {
      out.push(line.slice(span[0], span[1]));
      index = span[1];
      spanIndex++;
      continue;
    }
    const char = line[index]!;
    const previous = index > 0 ? line[index - 1]! : "";
    if (index >= urlUntil && (char === "h" || char === "H" || char === "w" || char === "W")) urlUntil = Math.max(urlUntil, autolinkEnd(line, index));

    // `\@x` renders as `@x` and still notifies: the backslash goes with the mention it escaped.
    const at = char === "@" ? index : char === "\\" && line[index + 1] === "@" ? index + 1 : -1;
    if (at !== -1 && index >= urlUntil && !isAsciiWordChar(at === index ? previous : "")) {
      const end = mentionEnd(line, at);
      const mention = line.slice(at, end);
      // Already inert from an earlier pass (text is neutralised again after a cut): left as it is.
      const wrapped = line.slice(at - 6, at) === "<code>" && line[at - 7] !== "\\" && line.startsWith("</code>", end);
      if (end > at + 1 && !wrapped && (mention.includes("/") || !mentionable.has(mention.slice(1).toLowerCase()))) {
        // After a backslash, `\<code>` would be literal text and leave the mention live.
        const before = out.at(-1)?.endsWith("\\") ? " " : "";
        out.push(`${before}<code>${mention}</code>`);
        index = end;
        continue;
      }
    }
    if (char === "\\" && index + 1 < line.length && isAsciiPunctuation(line[index + 1]!)) {
      // An escaped character is literal (`\![`, `\<img`, `` \` ``): copied with its backslash.
      out.push(line.slice(index, index + 2));
      index += 2;
      continue;
    }
    if (char === "!" && line[index + 1] === "[") {
      const kept = keptImageLength(line, index);
      if (kept > 0) {
        out.push(line.slice(index, index + kept));
        index += kept;
        continue;
      }
      // `[alt](url)` is left: a link. After another `!` it would read as an image again.
      if (out.at(-1)?.endsWith("!")) out.push("\\!");
      index++;
      continue;
    }
    if (char === "<") {
      mediaTag.lastIndex = index;
      if (mediaTag.test(line)) {
        out.push("&lt;");
        index++;
        continue;
      }
    }
    out.push(char);
    index++;
  }
  return out.join("");
}

// Tags GitHub's sanitiser lets through that make the browser (via camo) fetch a URL.
const mediaTag = /<(?:img|image|picture|source|video|audio|track|input|embed|object|iframe|svg)(?=[\s/>]|$)/iy;

/** An inline image this scanner is sure of, with a GitHub URL: its length, else 0. */
function keptImageLength(line: string, index: number): number {
  plainImage.lastIndex = index;
  const match = plainImage.exec(line);
  return match && isGitHubImageUrl(match[1]!) ? match[0].length : 0;
}

// Only the simplest form: no nested brackets, code, HTML or escapes in the alt text, no title.
const plainImage = /!\[[^[\]`<>\\\n]*\]\(([^\s()<>`"'\\]*)\)/y;

/** Where a mention starting at `index` ends: `@login` or `@org/team`, as GitHub matches them. */
function mentionEnd(line: string, index: number): number {
  let end = index + 1;
  if (!isAsciiAlphanumeric(line[end] ?? "")) return index;
  while (end < line.length && (isAsciiAlphanumeric(line[end]!) || line[end] === "-")) end++;
  if (line[end] === "/" && isAsciiAlphanumeric(line[end + 1] ?? "")) {
    end += 2;
    while (end < line.length && (isAsciiAlphanumeric(line[end]!) || line[end] === "-" || line[end] === "_")) end++;
  }
  return end;
}

const autolinkStart = /(?:https?:\/\/|www\.)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/iy;

/**
 * The end of a URL GitHub will autolink at `index` (text in a link notifies no one), or `index`.
 * Conservative: only characters that cannot end the link or start other markup are included.
 */
function autolinkEnd(line: string, index: number): number {
  const previous = index > 0 ? line[index - 1]! : "";
  const www = line[index] === "w" || line[index] === "W";
  // GitHub links `www.` only at the start, after whitespace or `*_~(`; a scheme after any non-letter.
  if (www ? previous !== "" && !/[\s*_~(]/.test(previous) : /[A-Za-z0-9]/.test(previous)) return index;
  autolinkStart.lastIndex = index;
  if (!autolinkStart.test(line)) return index;
  let end = autolinkStart.lastIndex;
  while (end < line.length && /[A-Za-z0-9\-./?=#%+:;,@]/.test(line[end]!)) end++;
  return end;
}

interface CodeSpans {
  spans: Span[];
  /** Whether the paragraph's backticks are all paired in spans trusted so far. */
  clean: boolean;
}

/** The code spans on `line` that GitHub certainly renders as code (see the rules above). */
function trustedCodeSpans(line: string, clean: boolean): CodeSpans {
  const runs = backtickRuns(line);
  if (runs.length === 0) return { spans: [], clean };
  if (!clean) return { spans: [], clean: false };
  const next = nextRunOfLength(runs);
  const spans: Span[] = [];
  // Whether a URL GitHub may autolink started earlier in this word: the link runs on to the next
  // space and swallows a backtick in its way, so no span may open here.
  let inUrl = false;
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (char === "\\" && index + 1 < line.length && isAsciiPunctuation(line[index + 1]!)) {
      index += 2;
      continue;
    }
    if (char !== "`") {
      if (/\s/.test(char)) inUrl = false;
      else if (line.startsWith("://", index) || line.slice(index, index + 4).toLowerCase() === "www.") inUrl = true;
      index++;
      continue;
    }
    if (inUrl) return { spans, clean: false };
    let end = index;
    while (line[end] === "`") end++;
    const closer = next(end - index, end);
    if (closer === undefined) return { spans, clean: false };
    const content = line.slice(end, closer);
    const closerEnd = closer + end - index;
    if (/[<>|]/.test(content) || line[index - 1] === "$" || line[closerEnd] === "$") return { spans, clean: false };
    spans.push([index, closerEnd]);
    index = closerEnd;
  }
  return { spans, clean: true };
}

/** Maximal runs of backticks, as `[start, length]`. */
function backtickRuns(line: string): [number, number][] {
  const runs: [number, number][] = [];
  for (let index = 0; index < line.length; index++) {
    if (line[index] !== "`") continue;
    const start = index;
    while (line[index + 1] === "`") index++;
    runs.push([start, index + 1 - start]);
  }
  return runs;
}

/** A lookup of the next run of a given length from a position; positions must only grow. */
function nextRunOfLength(runs: [number, number][]): (length: number, from: number) => number | undefined {
  const byLength = new Map<number, number[]>();
  for (const [start, length] of runs) {
    const starts = byLength.get(length) ?? [];
    starts.push(start);
    byLength.set(length, starts);
  }
  const cursor = new Map<number, number>();
  return (length, from) => {
    const starts = byLength.get(length);
    if (!starts) return undefined;
    let at = cursor.get(length) ?? 0;
    while (at < starts.length && starts[at]! < from) at++;
    cursor.set(length, at);
    return starts[at];
  };
}

// List markers, blockquote markers and indentation, before what a line really starts with.
const containerPrefix = /^[ \t>*+\-0-9.)]*/;

/** A line that might open or close a fence inside some container. */
function looksLikeFence(line: string): boolean {
  const rest = line.replace(containerPrefix, "");
  return rest.startsWith("```") || rest.startsWith("~~~");
}

/** A line that might start a raw HTML block, and what ends it when not a blank line. */
function htmlBlockStart(line: string): { endMarker: string | null } | null {
  const rest = line.replace(containerPrefix, "");
  if (!rest.startsWith("<")) return null;
  // A mention this scanner wrapped at the start of a line: `code` is no block tag, and an inline
  // tag starts a block only alone on its line.
  if (rest.startsWith("<code>") && rest.slice("<code>".length).trim() !== "") return null;
  const literal = /^<(pre|script|style|textarea)(?=[\s>]|$)/i.exec(rest);
  if (literal) return { endMarker: `</${literal[1]!.toLowerCase()}>` };
  if (rest.startsWith("<!--")) return { endMarker: "-->" };
  if (rest.startsWith("<?")) return { endMarker: "?>" };
  if (rest.startsWith("<![CDATA[")) return { endMarker: "]]>" };
  if (/^<![A-Za-z]/.test(rest)) return { endMarker: ">" };
  return { endMarker: null };
}

const isAsciiAlphanumeric = (char: string) => /^[A-Za-z0-9]$/.test(char);
const isAsciiWordChar = (char: string) => /^[A-Za-z0-9_]$/.test(char);
const isAsciiPunctuation = (char: string) => /^[!-/:-@[-`{-~]$/.test(char);
