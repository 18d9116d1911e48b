import { describe, expect, it } from "vitest";
import { boundedModelName, createUsageMeter } from "../../src/gateway/usage-meter.ts";
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
    expect(meter("anthropic", "text/event-stream", [anthropic])).toMatchObject({ inputTokens: 60, outputTokens: 12 });
    expect(meter("anthropic", "text/event-stream", bytes(anthropic))).toMatchObject({ inputTokens: 60, outputTokens: 12 });
    expect(meter("anthropic", "text/event-stream", [anthropic.replaceAll("\n", "\r\n")])).toMatchObject({ inputTokens: 60, outputTokens: 12 });
  });

  it("reads JSON answers of both vendors, including Chat Completions' names", () => {
    expect(meter("anthropic", "application/json", ['{"type":"message","usage":{"input_tokens":5,', '"output_tokens":6}}'])).toMatchObject({ inputTokens: 5, outputTokens: 6 });
    expect(meter("openai", "application/json; charset=utf-8", ['{"object":"response","usage":{"input_tokens":8,"output_tokens":9}}'])).toMatchObject({ inputTokens: 8, outputTokens: 9 });
    expect(meter("openai", "application/json", ['{"usage":{"prompt_tokens":3,"completion_tokens":4}}'])).toMatchObject({ inputTokens: 3, outputTokens: 4 });
  });

  it("skips a line too long to be a usage event without keeping it, and still reads the next", () => {
    const huge = `data: {"type":"response.output_text.delta","delta":"${"x".repeat(2 << 20)}"}\n\n`;
    const completed = sse([{ data: { type: "response.completed", response: { usage: { input_tokens: 100, output_tokens: 20 } } } }]);
    const chunks = [...huge.match(/[\s\S]{1,65536}/g)!, completed];
    expect(meter("openai", "text/event-stream", chunks)).toMatchObject({ inputTokens: 100, outputTokens: 20 });
  });

  it("counts nothing for error bodies and other content", () => {
    expect(meter("anthropic", "application/json", ['{"type":"error","error":{"type":"overloaded_error"}}'])).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    expect(meter("openai", "text/plain", ['{"usage":{"input_tokens":1,"output_tokens":1}}'])).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });

  it("reads the model each answer names and the prompt-cache parts of its input", () => {
    const named = anthropic.replace('"message":{', '"message":{"model":"claude-sonnet-4-5-20250929",');
    expect(meter("anthropic", "text/event-stream", bytes(named))).toEqual({ model: "claude-sonnet-4-5-20250929", inputTokens: 60, outputTokens: 12, cacheReadTokens: 30, cacheWriteTokens: 20 });
    expect(meter("anthropic", "application/json", ['{"type":"message","model":"claude-haiku-4-5","usage":{"input_tokens":5,"output_tokens":6}}'])).toEqual({
      model: "claude-haiku-4-5",
      inputTokens: 5,
      outputTokens: 6,
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
    });
    const responses = sse([
      { data: { type: "response.created", response: { model: "gpt-5-codex", usage: null } } },
      { data: { type: "response.completed", response: { model: "gpt-5-codex", usage: { input_tokens: 100, input_tokens_details: { cached_tokens: 80 }, output_tokens: 20 } } } },
    ]);
    expect(meter("openai", "text/event-stream", [responses])).toEqual({ model: "gpt-5-codex", inputTokens: 100, outputTokens: 20, cacheReadTokens: 80, cacheWriteTokens: 0 });
    const chat = '{"model":"gpt-5-mini","usage":{"prompt_tokens":30,"prompt_tokens_details":{"cached_tokens":999},"completion_tokens":4}}';
    // A cached count above the input is not believed past the input.
    expect(meter("openai", "application/json", [chat])).toEqual({ model: "gpt-5-mini", inputTokens: 30, outputTokens: 4, cacheReadTokens: 30, cacheWriteTokens: 0 });
    expect(meter("openai", "application/json", ['{"usage":{"input_tokens":1,"output_tokens":1}}'])).toMatchObject({ model: "unknown" });
  });

  it("bounds the model name: printable ASCII, at most 100 characters, never empty", () => {
    expect(boundedModelName(`  <b>${"m".repeat(300)}\u0000\n`)).toBe(`<b>${"m".repeat(97)}`);
    expect(boundedModelName("gpt-5\u0007\u202e-codex")).toBe("gpt-5-codex");
    expect(boundedModelName(" \n\t ")).toBeUndefined();
    expect(boundedModelName(42)).toBeUndefined();
    expect(boundedModelName({ toString: () => "gpt-5" })).toBeUndefined();
    const hostile = sse([{ data: { type: "message_start", message: { model: "x".repeat(5000), usage: { input_tokens: 1, output_tokens: 1 } } } }]);
    expect(meter("anthropic", "text/event-stream", [hostile]).model).toBe("x".repeat(100));
  });
});
