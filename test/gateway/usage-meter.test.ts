import { describe, expect, it } from "vitest";
import { createUsageMeter } from "../../src/gateway/usage-meter.ts";
import { sse } from "./fake-upstream.ts";

const meter = (vendor: "anthropic" | "openai", contentType: string, chunks: (string | Buffer)[]) => {
  const m = createUsageMeter(vendor, contentType);
  for (const chunk of chunks) m.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return m.finish();
};
/** One byte per chunk, so multi-byte characters are cut in the middle too. */
const bytes = (text: string) => [...Buffer.from(text)].map((byte) => Buffer.from([byte]));

const anthropic = sse([
  { event: "message_start", data: { type: "message_start", message: { usage: { input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 1 } } } },
  { event: "content_block_delta", data: { type: "content_block_delta", delta: { type: "text_delta", text: "é ✓ \"usage\": {\"output_tokens\": 9999}" } } },
  { event: "message_delta", data: { type: "message_delta", usage: { output_tokens: 7 } } },
  { event: "message_delta", data: { type: "message_delta", usage: { output_tokens: 12 } } },
]);

describe("the usage meter", () => {
  it("reads Anthropic's stream however it is cut, counting cache tokens as input and the last cumulative output", () => {
    expect(meter("anthropic", "text/event-stream", [anthropic])).toEqual({ inputTokens: 60, outputTokens: 12 });
    expect(meter("anthropic", "text/event-stream", bytes(anthropic))).toEqual({ inputTokens: 60, outputTokens: 12 });
    expect(meter("anthropic", "text/event-stream", [anthropic.replaceAll("\n", "\r\n")])).toEqual({ inputTokens: 60, outputTokens: 12 });
  });

  it("reads JSON answers of both vendors, including Chat Completions' names", () => {
    expect(meter("anthropic", "application/json", ['{"type":"message","usage":{"input_tokens":5,', '"output_tokens":6}}'])).toEqual({ inputTokens: 5, outputTokens: 6 });
    expect(meter("openai", "application/json; charset=utf-8", ['{"object":"response","usage":{"input_tokens":8,"output_tokens":9}}'])).toEqual({ inputTokens: 8, outputTokens: 9 });
    expect(meter("openai", "application/json", ['{"usage":{"prompt_tokens":3,"completion_tokens":4}}'])).toEqual({ inputTokens: 3, outputTokens: 4 });
  });

  it("skips a line too long to be a usage event without keeping it, and still reads the next", () => {
    const huge = `data: {"type":"response.output_text.delta","delta":"${"x".repeat(2 << 20)}"}\n\n`;
    const completed = sse([{ data: { type: "response.completed", response: { usage: { input_tokens: 100, output_tokens: 20 } } } }]);
    const chunks = [...huge.match(/[\s\S]{1,65536}/g)!, completed];
    expect(meter("openai", "text/event-stream", chunks)).toEqual({ inputTokens: 100, outputTokens: 20 });
  });

  it("counts nothing for error bodies and other content", () => {
    expect(meter("anthropic", "application/json", ['{"type":"error","error":{"type":"overloaded_error"}}'])).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(meter("openai", "text/plain", ['{"usage":{"input_tokens":1,"output_tokens":1}}'])).toEqual({ inputTokens: 0, outputTokens: 0 });
  });
});
