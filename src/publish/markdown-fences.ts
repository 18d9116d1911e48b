// Just enough CommonMark to know whether a cut lands inside a fenced code block: a fence is a
// line of 3+ backticks or tildes indented at most 3 spaces; it closes on a line of the same
// character, at least as long, with nothing after it but spaces.

export interface OpenFence {
  /** The opening run, e.g. "```" or "~~~~". */
  marker: string;
  /** The info string after it ("ts"), to reopen the block the same way. */
  info: string;
}

const fenceOpening = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const fenceClosing = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** The fence still open after `text`, starting from `open` (none by default). */
export function openFenceAfter(text: string, open: OpenFence | null = null): OpenFence | null {
  let state = open;
  for (const rawLine of text.split("\n")) state = nextFenceState(state, rawLine.replace(/\r$/, ""));
  return state;
}

/** Whether `line` opens or closes a fence when read in state `open`. */
export function togglesFence(line: string, open: OpenFence | null): boolean {
  return nextFenceState(open, line) !== open;
}

/** Whether `line`, read outside any fence, would open one. */
export function looksLikeFence(line: string): boolean {
  return nextFenceState(null, line) !== null;
}

/** The fence open after reading one `line` (no line break) in state `open`. */
export function nextFenceState(open: OpenFence | null, line: string): OpenFence | null {
  if (open) {
    const closing = fenceClosing.exec(line);
    const run = closing?.[1];
    const closes = run !== undefined && run[0] === open.marker[0] && run.length >= open.marker.length;
    return closes ? null : open;
  }
  const opening = fenceOpening.exec(line);
  if (!opening) return null;
  const marker = opening[1]!;
  const info = opening[2]!.trim();
  // A backtick fence's info string cannot hold a backtick: "```a```" is inline code, not a fence.
  if (marker.startsWith("`") && info.includes("`")) return null;
  return { marker, info };
}
