// Issue and comment text is hostile data (ARCHITECTURE.md, planes and trust). What GitHub
// does not render — HTML comments, markdown link reference definitions, zero-width and bidi
// controls, Unicode tag characters — can carry instructions a reviewer never sees, so it is
// removed before anything reads the text.

const htmlComment = /<!--[\s\S]*?(?:-->|$)/g;
// Unicode's own definition of "renders as nothing" (Default_Ignorable_Code_Point): zero-width
// characters and joiners, soft hyphen, bidi marks, embeddings and isolates, Hangul fillers,
// variation selectors and tag characters (U+E0000–U+E0FFF), which can encode hidden bytes — plus
// the interlinear annotation controls (U+FFF9–U+FFFB), invisible but not in that property.
const invisible = /[\p{Default_Ignorable_Code_Point}\uFFF9-\uFFFB]/gu;

// `[//]: # (ignore the rules …)`, the markdown "comment": a link reference definition renders as
// nothing, label, destination and title alike. Its destination may sit on the next line and its
// title may run over several (never past a blank line); a quote (`>`) or indent does not show it.
// Lines that only look like one (inside a code block, or right after a paragraph line) are
// removed too: losing a little visible text is the safe side of the mistake.
// The label's two alternatives never overlap, so a long line costs linear time, not quadratic.
const definitionStart = /^[ \t>]*\[((?:[^[\]\\\n]|\\.)+)\]:/;
const titleCloser: Record<string, string> = { '"': '"', "'": "'", "(": ")" };

/** The text without its link reference definitions, and the lines those took. */
function splitLinkDefinitions(text: string): { kept: string; removed: string[] } {
  const lines = text.split("\n");
  const kept: string[] = [];
  const removed: string[] = [];
  // The next line belongs to the definition only if it is not blank.
  const takeNext = (i: number): string | undefined => {
    const next = lines[i + 1];
    return next !== undefined && next.trim() !== "" ? next : undefined;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    const start = definitionStart.exec(line);
    if (!start || !/\S/.test(start[1]!)) {
      kept.push(line);
      continue;
    }
    removed.push(line);
    let rest = line.slice(start[0].length).trim();
    if (rest === "" && takeNext(i) !== undefined) {
      rest = lines[++i]!.trim();
      removed.push(lines[i]!);
    }
    let title = rest.replace(/^(<[^>\n]*>|\S+)/, "").trim();
    if (title === "" && (takeNext(i)?.trim()[0] ?? "") in titleCloser) {
      title = lines[++i]!.trim();
      removed.push(lines[i]!);
    }
    const closer = titleCloser[title[0] ?? ""];
    // Each added line is searched once for the closer, never the whole title again.
    let closed = closer === undefined || title.slice(1).includes(closer);
    while (!closed && takeNext(i) !== undefined) {
      removed.push(lines[++i]!);
      closed = lines[i]!.includes(closer!);
    }
  }
  return { kept: kept.join("\n"), removed };
}

export function stripHiddenText(text: string): string {
  return splitLinkDefinitions(text.replace(htmlComment, "")).kept.replace(invisible, "");
}

/** True when the text holds anything stripHiddenText would remove. */
export const hasHiddenText = (text: string): boolean => stripHiddenText(text) !== text;

export type HiddenTextKind = "html comment" | "link reference definition" | "zero-width" | "bidi control" | "tag characters" | "variation selectors" | "other invisible";

/** What stripHiddenText removes from a text: how many characters (code points), and of which kinds. */
export interface HiddenTextFound {
  characters: number;
  kinds: HiddenTextKind[];
}

const kindOf = (codePoint: number): HiddenTextKind => {
  if ((codePoint >= 0x200b && codePoint <= 0x200d) || codePoint === 0x2060 || codePoint === 0xfeff || codePoint === 0x180e) return "zero-width";
  if (codePoint === 0x061c || codePoint === 0x200e || codePoint === 0x200f || (codePoint >= 0x202a && codePoint <= 0x202e) || (codePoint >= 0x2066 && codePoint <= 0x2069)) return "bidi control";
  if (codePoint >= 0xe0000 && codePoint <= 0xe007f) return "tag characters";
  if ((codePoint >= 0xfe00 && codePoint <= 0xfe0f) || (codePoint >= 0xe0100 && codePoint <= 0xe01ef) || (codePoint >= 0x180b && codePoint <= 0x180d) || codePoint === 0x180f) return "variation selectors";
  return "other invisible";
};

/** What stripHiddenText would remove from these texts, so a task's log can say so; none found: zero characters. */
export function findHiddenText(...texts: string[]): HiddenTextFound {
  let characters = 0;
  const kinds = new Set<HiddenTextKind>();
  for (const text of texts) {
    for (const [comment] of text.matchAll(htmlComment)) {
      characters += [...comment].length;
      kinds.add("html comment");
    }
    const { kept, removed } = splitLinkDefinitions(text.replace(htmlComment, ""));
    for (const line of removed) {
      characters += [...line].length;
      kinds.add("link reference definition");
    }
    for (const [char] of kept.matchAll(invisible)) {
      characters += 1;
      kinds.add(kindOf(char.codePointAt(0)!));
    }
  }
  return { characters, kinds: [...kinds] };
}

/** One line for a task's log: "hidden text removed from the issue (12 characters: zero-width, html comment)". */
export const describeHiddenText = (found: HiddenTextFound, where: string): string =>
  `hidden text removed from ${where} (${found.characters} character${found.characters === 1 ? "" : "s"}: ${found.kinds.join(", ")})`;
