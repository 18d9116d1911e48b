// Reads the model tokens a response reports while it streams through, one chunk at a time:
// server-sent events are split into lines and only `data:` lines of the usage-carrying events are
// parsed; nothing but the current partial line is held. A plain JSON answer (not streamed) is
// parsed whole: it is one message, bounded by the request's max tokens.
import type { RunModelUsage } from "../db/run-model-usage.ts";
import type { VendorName } from "./vendors.ts";

export interface UsageMeter {
  push(chunk: Buffer): void;
  /** The usage seen so far (a response cut short reports what it had). */
  finish(): RunModelUsage;
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | undefined => (typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined);
const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

// A longer line is not an event we read (text deltas are small); it is skipped, never kept.
const maxLineBytes = 1 << 20;
const maxJsonBytes = 16 << 20;

/** Anthropic counts cache reads and writes apart from input_tokens; all of them are input the run used. */
function anthropicInput(usage: Json | undefined): number {
  return count(usage?.["input_tokens"]) + count(usage?.["cache_creation_input_tokens"]) + count(usage?.["cache_read_input_tokens"]);
}

interface Tally {
  input: number;
  output: number;
}

/** Applies one parsed SSE data object or JSON body to the tally. */
function readUsage(vendor: VendorName, data: Json, tally: Tally): void {
  if (vendor === "anthropic") {
    if (data["type"] === "message_start") {
      const usage = asObject(asObject(data["message"])?.["usage"]);
      tally.input = anthropicInput(usage);
      tally.output = count(usage?.["output_tokens"]);
    } else if (data["type"] === "message_delta" || data["type"] === "message") {
      // message_delta's counts are cumulative for the message, so they replace, never add.
      const usage = asObject(data["usage"]);
      if (usage?.["input_tokens"] !== undefined) tally.input = anthropicInput(usage);
      if (usage?.["output_tokens"] !== undefined) tally.output = count(usage["output_tokens"]);
    }
    return;
  }
  const usage = asObject(data["usage"]) ?? asObject(asObject(data["response"])?.["usage"]);
  if (!usage) return;
  // Responses API names them input/output_tokens; Chat Completions prompt/completion_tokens.
  tally.input = count(usage["input_tokens"] ?? usage["prompt_tokens"]);
  tally.output = count(usage["output_tokens"] ?? usage["completion_tokens"]);
}

function parseObject(text: string): Json | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function createUsageMeter(vendor: VendorName, contentType: string | undefined): UsageMeter {
  const tally: Tally = { input: 0, output: 0 };
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
      return { inputTokens: tally.input, outputTokens: tally.output };
    },
  };
}
