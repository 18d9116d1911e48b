import { describe, expect, it } from "vitest";
import { maxBodyChars, maxCheckOutputBytes, truncateMarkdown } from "../../src/github/github-limits.ts";
import { openFenceAfter } from "../../src/publish/markdown-fences.ts";

const bytes = (text: string) => Buffer.byteLength(text, "utf8");
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const noticeAtEnd = /\n\n… \(truncated: (\d+) characters omitted\)$/;
const noticeAtStart = /^… \(truncated: (\d+) characters omitted\)\n\n/;
const codePoints = (text: string) => [...text].length;

/** Lines that are a ``` fence: an even count means every block that opens also closes. */
const fenceLines = (text: string) => text.split("\n").filter((line) => /^```/.test(line)).length;

describe("truncateMarkdown", () => {
  it("exports GitHub's limits", () => {
    expect(maxBodyChars).toBe(65_536);
    expect(maxCheckOutputBytes).toBe(65_535);
  });

  it("leaves text within the limit unchanged, up to exactly the limit", () => {
    const atLimit = "x".repeat(maxBodyChars);
    expect(truncateMarkdown(atLimit)).toBe(atLimit);
    const atByteLimit = "字".repeat(maxCheckOutputBytes / 3);
    expect(truncateMarkdown(atByteLimit, { maxBytes: maxCheckOutputBytes })).toBe(atByteLimit);
    expect(truncateMarkdown("short", { maxChars: 10, maxBytes: 10, keep: "tail" })).toBe("short");
  });

  it("keeps the head within the character limit and says how much was cut", () => {
    const text = Array.from({ length: 20_000 }, (_, index) => `line ${index}`).join("\n");

    const result = truncateMarkdown(text);

    expect(result.length).toBeLessThanOrEqual(maxBodyChars);
    const [, omitted] = noticeAtEnd.exec(result)!;
    const kept = result.replace(noticeAtEnd, "");
    expect(text.startsWith(kept)).toBe(true);
    expect(Number(omitted)).toBe(codePoints(text) - codePoints(kept));
    // It stopped at a line break, not mid-line.
    expect(text[kept.length]).toBe("\n");
  });

  it.each([0, 1, 2, 3])("never splits a CJK character or an emoji at the byte limit (offset %i)", (offset) => {
    for (const unit of ["字", "😀", "é字😀"]) {
      const text = "a".repeat(offset) + unit.repeat(40_000);

      const result = truncateMarkdown(text, { maxBytes: maxCheckOutputBytes });

      expect(bytes(result)).toBeLessThanOrEqual(maxCheckOutputBytes);
      expect(result).not.toMatch(loneSurrogate);
      expect(result).not.toContain("\uFFFD");
      expect(text.startsWith(result.replace(noticeAtEnd, ""))).toBe(true);
    }
  });

  it.each([0, 1])("never splits a surrogate pair at the character limit (offset %i)", (offset) => {
    const text = "a".repeat(offset) + "😀".repeat(40_000);

    const head = truncateMarkdown(text);
    const tail = truncateMarkdown(text, { keep: "tail" });

    for (const result of [head, tail]) {
      expect(result.length).toBeLessThanOrEqual(maxBodyChars);
      expect(result).not.toMatch(loneSurrogate);
    }
  });

  it("meets both limits when both are given", () => {
    const text = "字".repeat(50_000);

    const result = truncateMarkdown(text, { maxChars: 30_000, maxBytes: 60_000 });

    expect(result.length).toBeLessThanOrEqual(30_000);
    expect(bytes(result)).toBeLessThanOrEqual(60_000);
  });

  it("closes a code fence the cut lands in, before the notice", () => {
    const code = Array.from({ length: 3_000 }, (_, index) => `const value${index} = ${index};`).join("\n");
    const text = `## Summary\n\nDone.\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThe end.`;

    const result = truncateMarkdown(text, { maxChars: 10_000 });

    expect(result.length).toBeLessThanOrEqual(10_000);
    expect(result).toMatch(/\n```\n\n… \(truncated: \d+ characters omitted\)$/);
    expect(fenceLines(result) % 2).toBe(0);
    expect(openFenceAfter(result)).toBeNull();
  });

  it("closes a long tilde fence with its own marker", () => {
    const text = `~~~~~md\n${"```\ninside\n".repeat(2_000)}~~~~~\n`;

    const result = truncateMarkdown(text, { maxChars: 5_000 });

    expect(result).toMatch(/\n~~~~~\n\n… \(truncated/);
    expect(openFenceAfter(result)).toBeNull();
  });

  it("adds no fence when the cut lands outside one", () => {
    const text = "```\nshort\n```\n" + "plain prose. ".repeat(10_000);

    const result = truncateMarkdown(text, { maxChars: 2_000 });

    expect(fenceLines(result)).toBe(2);
    expect(result).toMatch(noticeAtEnd);
  });

  it("keeps the tail with the notice first, reopening the fence the kept part starts in", () => {
    const log = Array.from({ length: 5_000 }, (_, index) => `step ${index} ok`).join("\n");
    const text = `Agent output:\n\n\`\`\`text\n${log}\n\`\`\`\n\nResult: all tests pass.`;

    const result = truncateMarkdown(text, { maxBytes: 4_000, keep: "tail" });

    expect(bytes(result)).toBeLessThanOrEqual(4_000);
    expect(result.endsWith("\n```\n\nResult: all tests pass.")).toBe(true);
    const [, omitted] = noticeAtStart.exec(result)!;
    const afterNotice = result.replace(noticeAtStart, "");
    expect(afterNotice.startsWith("```text\n")).toBe(true);
    const kept = afterNotice.slice("```text\n".length);
    expect(text.endsWith(kept)).toBe(true);
    expect(kept.startsWith("step ")).toBe(true); // a whole line
    expect(Number(omitted)).toBe(codePoints(text) - codePoints(kept));
    expect(openFenceAfter(result)).toBeNull();
  });

  it("in tail mode never lets a partial first line open or close a fence", () => {
    // One huge last line, cut so that what is left of it starts with three backticks.
    const reserved = "… (truncated: 9999 characters omitted)\n\n".length;
    const budget = 3_000 - reserved;
    const text = "intro\n" + "x".repeat(5_000) + " ```js" + "y".repeat(budget - 5);
    expect(String(codePoints(text))).toHaveLength(4);

    const result = truncateMarkdown(text, { maxChars: 3_000, keep: "tail" });

    expect(result.length).toBeLessThanOrEqual(3_000);
    expect(result.replace(noticeAtStart, "")).toBe("js" + "y".repeat(budget - 5));
    expect(openFenceAfter(result)).toBeNull();
  });

  it("uses a custom notice, filling in the count", () => {
    const result = truncateMarkdown("a".repeat(200), { maxChars: 100, notice: "[{omitted} more in the dashboard]" });

    // Room is set aside for the longest count ("200"), then the real one is shown.
    expect(result).toBe(`${"a".repeat(71)}\n\n[129 more in the dashboard]`);
    expect(result.length).toBeLessThanOrEqual(100);
  });

  it("refuses a limit too small for the notice", () => {
    expect(() => truncateMarkdown("a".repeat(100), { maxChars: 10 })).toThrow(RangeError);
    expect(() => truncateMarkdown("a".repeat(100), { maxBytes: Number.NaN })).toThrow(RangeError);
  });

  it("holds its promises on mixed text at many limits", () => {
    const pieces = ["word ", "字", "😀", "\n", "```ts\n", "```\n", "~~~\n", "é", "\r\n", "**bold** "];
    let state = 7;
    const text = Array.from({ length: 6_000 }, () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return pieces[state % pieces.length];
    }).join("");

    for (const limit of [200, 999, 4_096, 10_001]) {
      for (const keep of ["head", "tail"] as const) {
        const byChars = truncateMarkdown(text, { maxChars: limit, keep });
        const byBytes = truncateMarkdown(text, { maxBytes: limit, keep });

        expect(byChars.length).toBeLessThanOrEqual(limit);
        expect(bytes(byBytes)).toBeLessThanOrEqual(limit);
        for (const result of [byChars, byBytes]) {
          expect(result).not.toMatch(loneSurrogate);
          expect(result).toMatch(keep === "head" ? noticeAtEnd : noticeAtStart);
          if (keep === "head") expect(openFenceAfter(result.replace(noticeAtEnd, ""))).toBeNull();
          if (keep === "tail") expect(openFenceAfter(result)).toEqual(openFenceAfter(text));
        }
      }
    }
  });
});
