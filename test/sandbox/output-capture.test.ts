import { describe, expect, it } from "vitest";
import { OutputCapture } from "../../src/sandbox/output-capture.ts";

describe("OutputCapture", () => {
  it("hands the listener whole characters even when a pipe splits one", () => {
    const chunks: string[] = [];
    const capture = new OutputCapture(1_000, (chunk) => chunks.push(chunk));
    const bytes = Buffer.from("ok ✓ done", "utf8");
    capture.pushBytes("stdout", bytes.subarray(0, 4)); // "ok " + the first byte of ✓
    capture.pushBytes("stdout", bytes.subarray(4));
    capture.seal();
    expect(chunks).toEqual(["ok ", "✓ done"]);
    expect(capture.result()).toEqual({ stdout: "ok ✓ done", stderr: "" });
  });

  it("keeps the tail of each stream up to the cap and says how much was dropped", () => {
    const capture = new OutputCapture(10);
    capture.pushText("stdout", "0123456789");
    capture.pushText("stdout", "abcde");
    capture.pushText("stderr", "short");
    expect(capture.result()).toEqual({ stdout: "[… 5 bytes of stdout truncated …]\n56789abcde", stderr: "short" });
  });

  it("keeps the right tail of 400,000 one-byte chunks", () => {
    const capture = new OutputCapture(200_000);
    for (let index = 0; index < 400_000; index++) capture.pushText("stdout", String(index % 10));
    const expected = Array.from({ length: 200_000 }, (_, i) => String((200_000 + i) % 10)).join("");
    expect(capture.result().stdout).toBe(`[… 200000 bytes of stdout truncated …]\n${expected}`);
  });

  it("never starts the kept tail inside a multi-byte character", () => {
    const capture = new OutputCapture(5);
    capture.pushText("stdout", "aa✓✓"); // ✓ is 3 bytes: the last 5 bytes start inside the first ✓
    expect(capture.result().stdout).toBe("[… 5 bytes of stdout truncated …]\n✓");
  });

  it("stops calling a listener that threw, keeps capturing, and reports the error", () => {
    let calls = 0;
    const capture = new OutputCapture(100, () => {
      calls += 1;
      throw new Error("listener broke");
    });
    capture.pushText("stdout", "one");
    capture.pushText("stdout", "two");
    expect(calls).toBe(1);
    expect(capture.failure?.error).toEqual(new Error("listener broke"));
    expect(capture.result().stdout).toBe("onetwo");
  });

  it("ignores output that arrives after it was sealed", () => {
    const capture = new OutputCapture(100);
    capture.pushText("stdout", "before");
    capture.seal();
    capture.pushText("stdout", "after");
    expect(capture.result().stdout).toBe("before");
  });
});
