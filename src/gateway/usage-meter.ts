// Reads the model tokens a response reports while it streams through, one chunk at a time:
// server-sent events are split into lines and only `data:` lines of the usage-carrying events are
// parsed; nothing but the current partial line is held. A plain JSON answer (not streamed) is
// parsed whole: it is one message, bounded by the request's max tokens. One answer is one model's:
// the meter also reads which model the answer names, and the prompt-cache parts of the input.
import type { ModelUsage } from "../db/run-model-usage.ts";
import type { VendorName } from "./vendors.ts";

export interface UsageMeter {
  push(chunk: Buffer): void;
  /** The usage seen so far (a response cut short reports what it had). */
  finish(): ModelUsage;
}

/** The model recorded when the answer names none (priced as unknown, never guessed). */
export const unknownModel = "unknown";
const maxModelNameLength = 100;

/**
 * The model name as stored: the answer echoes what the sandbox asked for, so it is untrusted text.
 * Printable ASCII only (vendors' model ids are), bounded, and never empty.
 */
export function boundedModelName(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.replace(/[^\x20-\x7e]/g, "").trim().slice(0, maxModelNameLength).trim();
  return name === "" ? undefined : name;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined);
const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

// A longer line is not an event we read (text deltas are small); it is skipped, never kept.
const maxLineBytes = 1 << 20;
const maxJsonBytes = 16 << 20;

interface Tally {
  model: string | undefined;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** Anthropic counts cache reads and writes apart from input_tokens; all of them are input the run used. */
function readAnthropicInput(usage: Json | undefined, tally: Tally): void {
  tally.cacheRead = count(usage?.["cache_read_input_tokens"]);
  tally.cacheWrite = count(usage?.["cache_creation_input_tokens"]);
  tally.input = count(usage?.["input_tokens"]) + tally.cacheRead + tally.cacheWrite;
}

/** Applies one parsed SSE data object or JSON body to the tally. */
function readUsage(vendor: VendorName, data: Json, tally: Tally): void {
  if (vendor === "anthropic") {
    if (data["type"] === "message_start") {
      const message = asObject(data["message"]);
      const usage = asObject(message?.["usage"]);
      tally.model = boundedModelName(message?.["model"]) ?? tally.model;
      readAnthropicInput(usage, tally);
      tally.output = count(usage?.["output_tokens"]);
    } else if (data["type"] === "message_delta" || data["type"] === "message") {
      // message_delta's counts are cumulative for the message, so they replace, never add.
      const usage = asObject(data["usage"]);
      tally.model = boundedModelName(data["model"]) ?? tally.model;
      if (usage?.["input_tokens"] !== undefined) readAnthropicInput(usage, tally);
      if (usage?.["output_tokens"] !== undefined) tally.output = count(usage["output_tokens"]);
    }
    return;
  }
  // Responses API events carry the response (model, usage) inside; plain answers and Chat Completions chunks at the top.
  const response = asObject(data["response"]);
  tally.model = boundedModelName(data["model"]) ?? boundedModelName(response?.["model"]) ?? tally.model;
  const usage = asObject(data["usage"]) ?? asObject(response?.["usage"]);
  if (!usage) return;
  // Responses API names them input/output_tokens; Chat Completions prompt/completion_tokens. Both
  // count cached input inside the input; OpenAI has no separate charge for writing the cache.
  tally.input = count(usage["input_tokens"] ?? usage["prompt_tokens"]);
  tally.output = count(usage["output_tokens"] ?? usage["completion_tokens"]);
  const details = asObject(usage["input_tokens_details"]) ?? asObject(usage["prompt_tokens_details"]);
  tally.cacheRead = Math.min(count(details?.["cached_tokens"]), tally.input);
}

function parseObject(text: string): Json | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function createUsageMeter(vendor: VendorName, contentType: string | undefined): UsageMeter {
  const tally: Tally = { model: undefined, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  const streaming = (contentType ?? "").includes("text/event-stream");
  const isJson = (contentType ?? "").includes("json");
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let skipping = false;

  const line = (bytes: Buffer) => {
    const text = bytes.toString("utf8").replace(/\r$/, "");
    if (!text.startsWith("data:")) return;
    const data = parseObject(text.slice(5).trim());
    if (data) readUsage(vendor, data, tally);
  };

  const pushEvents = (chunk: Buffer) => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      if (!skipping) line(partialBytes === 0 ? piece : Buffer.concat([...partial, piece]));
      partial = [];
      partialBytes = 0;
      skipping = false;
      start = newline + 1;
    }
    const rest = chunk.subarray(start);
    if (skipping || rest.length === 0) return;
    partialBytes += rest.length;
    if (partialBytes > maxLineBytes) {
      skipping = true;
      partial = [];
      partialBytes = 0;
    } else partial.push(Buffer.from(rest));
  };

  const pushJson = (chunk: Buffer) => {
    if (skipping) return;
    partialBytes += chunk.length;
    if (partialBytes > maxJsonBytes) {
      skipping = true;
      partial = [];
    } else partial.push(chunk);
  };

  return {
    push(chunk) {
      if (streaming) pushEvents(chunk);
      else if (isJson) pushJson(chunk);
    },
    finish() {
      if (isJson && !skipping && partial.length > 0) {
        const body = parseObject(Buffer.concat(partial).toString("utf8"));
        if (body) readUsage(vendor, body, tally);
      }
      if (streaming && !skipping && partialBytes > 0) line(Buffer.concat(partial));
      partial = [];
      return {
        model: tally.model ?? unknownModel,
        inputTokens: tally.input,
        outputTokens: tally.output,
        cacheReadTokens: tally.cacheRead,
        cacheWriteTokens: tally.cacheWrite,
      };
    },
  };
}
