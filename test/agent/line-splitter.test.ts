// Splitting streamed chunks into lines: linear however the stream is cut, bounded for a line
// that never ends.
import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/agent/process-output.ts";

function split(chunks: Iterable<string>, maxLineChars?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxLineChars);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.flush();
  return lines;
}

function* oneCharacterAtATime(text: string): Generator<string> {
  for (const character of text) yield character;
}

describe("LineSplitter", () => {
  it("splits lines across chunk boundaries, drops \\r before \\n and keeps blank lines", () => {
    expect(split(["a", "b\r\n\nc", "d\n", "tail"])).toEqual(["ab", "", "cd", "tail"]);
    expect(split(["x\n"])).toEqual(["x"]);
    expect(split([])).toEqual([]);
  });

  it("puts a 500,000-character line fed one character at a time back together", () => {
    // Re-splitting the held text on each chunk would make this quadratic (over 10^11 character
    // copies); joining the held pieces once at the line's end is linear.
    const long = "ab".repeat(250_000);
    expect(split(oneCharacterAtATime(`${long}\nnext\n`))).toEqual([long, "next"]);
  });

  it("holds at most its limit of a line without end and says how much was cut", () => {
    const lines = split(oneCharacterAtATime(`${"x".repeat(1_000)}\r\nshort\n${"y".repeat(30)}`), 100);
    expect(lines).toEqual([`${"x".repeat(100)}… [901 more characters]`, "short", "y".repeat(30)]);
  });

  it("cuts a 10 MB line arriving in one chunk at the default limit", () => {
    const [line] = split(["z".repeat(10 * 1024 * 1024), "\n"]);
    expect(line).toBe(`${"z".repeat(1024 * 1024)}… [${10 * 1024 * 1024 - 1024 * 1024} more characters]`);
  });
});
