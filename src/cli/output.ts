// Text for people. Titles, descriptions and event messages come from GitHub issues and other
// products: hostile text that must not move the cursor or recolour the operator's terminal.

// C0 and C1 controls (but tab and newline) and the bidi overrides behind "Trojan source" text.
// eslint-disable-next-line no-control-regex
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export const printable = (text: string): string => text.replace(unsafe, "\uFFFD");

/** For cells and field values: one line, whatever the text held. */
export const oneLine = (text: string): string => printable(text).replace(/\s*[\r\n\t]+\s*/g, " ").trim();

/** Columns padded to their widest cell; the last column is left ragged. */
export function columns(rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => row.map(oneLine));
  const widths = (cells[0] ?? []).map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd())
    .join("\n");
}

export const table = (headers: readonly string[], rows: readonly (readonly string[])[]): string => columns([headers, ...rows]);

/** "label  value" lines with the values aligned; empty values show as "-". */
export function fields(pairs: readonly (readonly [string, string | number | null | undefined])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value === null || value === undefined || value === "" ? "-" : oneLine(String(value))}`).join("\n");
}

export const indent = (text: string, by = "  "): string =>
  text
    .split("\n")
    .map((line) => (line ? `${by}${line}` : line))
    .join("\n");
