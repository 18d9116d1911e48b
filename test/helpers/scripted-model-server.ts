// A model stand-in on 127.0.0.1 for the real agent CLIs: it speaks Anthropic's Messages API
// (`POST /v1/messages`, streamed as server-sent events, plus count_tokens and models) and OpenAI's
// Responses API (`POST /v1/responses`, streamed), and answers from a script the test gives it.
//
// A script is a list of turns per vendor. Each request is answered by the first unused turn whose
// `when` accepts it (by default: the request advertises tools, i.e. it is the agent's main
// conversation); a request no turn accepts — a CLI's own side request such as a title or topic
// check, or one past the end of the script — gets a short harmless text. Every request is recorded
// with its parsed body, so a test reads the tool results the CLI sent back in the next request.
// Usage is reported in the stream as the vendors do, so the model gateway meters it.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Vendor = "anthropic" | "openai";

export interface RecordedRequest {
  vendor: Vendor | "unknown";
  method: string;
  /** The path without the query. */
  path: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  /** Which scripted turn answered it (its index), "side" for the harmless text, or null when not a model call. */
  answeredBy: number | "side" | null;
}

export type RequestMatcher = (request: RecordedRequest) => boolean;

export interface AnthropicTurn {
  when?: RequestMatcher;
  /** Text before any tool use; alone, it is the final message (stop_reason end_turn). */
  text?: string;
  toolUses?: { name: string; input: Record<string, unknown> }[];
}

export interface OpenAITurn {
  when?: RequestMatcher;
  /** An assistant message; alone, it is the final message. */
  text?: string;
  /** Function tools, e.g. `exec_command` with `{ cmd }`. */
  functionCalls?: { name: string; arguments: Record<string, unknown> }[];
  /** Freeform ("custom") tools, e.g. `apply_patch` or `exec` with their raw input. */
  customToolCalls?: { name: string; input: string }[];
}

export interface ScriptedModelServer {
  /** e.g. http://127.0.0.1:41234 — Anthropic's routes are under it, OpenAI's under `<url>/v1`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replaces the vendor's script and forgets which turns were used. */
  script(vendor: "anthropic", turns: AnthropicTurn[]): void;
  script(vendor: "openai", turns: OpenAITurn[]): void;
  /** Scripted turns of the vendor not used yet. */
  unusedTurns(vendor: Vendor): number;
  /** The text side requests get. */
  readonly sideText: string;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The default `when`: the request offers the model tools, as the agent loop's requests do. Codex
 * sends some models' tools in an `additional_tools` input item instead of `tools`.
 */
export const offersTools: RequestMatcher = (request) => {
  const body = request.body;
  if (!isObject(body)) return false;
  if (Array.isArray(body["tools"]) && body["tools"].length > 0) return true;
  return Array.isArray(body["input"]) && body["input"].some((item) => isObject(item) && item["type"] === "additional_tools");
};

/** The text of every user message of a request (Anthropic `messages`, OpenAI `input`), joined. */
export function userText(request: RecordedRequest): string {
  const body = request.body;
  if (!isObject(body)) return "";
  const items = Array.isArray(body["messages"]) ? body["messages"] : Array.isArray(body["input"]) ? body["input"] : [];
  return items
    .filter((item): item is Json => isObject(item) && item["role"] === "user")
    .map((item) => flattenText(item["content"]))
    .join("\n");
}

/** An agent-loop request (see offersTools) whose user messages contain `needle`: e.g. the role line of a prompt. */
export const promptIncludes =
  (needle: string): RequestMatcher =>
  (request) =>
    offersTools(request) && userText(request).includes(needle);

const SIDE_TEXT = "OK";

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A rough token count: enough for the gateway to meter something proportional. */
const tokensOf = (value: unknown): number => Math.max(1, Math.ceil(JSON.stringify(value ?? "").length / 4));

const sseEvent = (event: string, data: Json): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function sendSse(res: ServerResponse, events: string[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.end(events.join(""));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function anthropicContent(turn: AnthropicTurn, ids: () => string): Json[] {
  const blocks: Json[] = [];
  if (turn.text !== undefined) blocks.push({ type: "text", text: turn.text });
  for (const use of turn.toolUses ?? []) blocks.push({ type: "tool_use", id: `toolu_${ids()}`, name: use.name, input: use.input });
  return blocks;
}

function anthropicAnswer(res: ServerResponse, body: Json, turn: AnthropicTurn, ids: () => string): void {
  const content = anthropicContent(turn, ids);
  const stopReason = content.some((block) => block["type"] === "tool_use") ? "tool_use" : "end_turn";
  const usage = { input_tokens: tokensOf(body["messages"]), output_tokens: tokensOf(content) };
  const model = typeof body["model"] === "string" ? body["model"] : "claude-scripted";
  const id = `msg_${ids()}`;
  if (body["stream"] !== true) {
    sendJson(res, 200, { id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage });
    return;
  }
  const events = [
    sseEvent("message_start", {
      type: "message_start",
      message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } },
    }),
  ];
  content.forEach((block, index) => {
    if (block["type"] === "text") {
      events.push(sseEvent("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }));
      events.push(sseEvent("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: block["text"] } }));
    } else {
      events.push(sseEvent("content_block_start", { type: "content_block_start", index, content_block: { ...block, input: {} } }));
      events.push(sseEvent("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block["input"]) } }));
    }
    events.push(sseEvent("content_block_stop", { type: "content_block_stop", index }));
  });
  events.push(sseEvent("message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }));
  events.push(sseEvent("message_stop", { type: "message_stop" }));
  sendSse(res, events);
}

function openaiOutput(turn: OpenAITurn, ids: () => string): Json[] {
  const items: Json[] = [];
  if (turn.text !== undefined) {
    items.push({ type: "message", id: `msg_${ids()}`, status: "completed", role: "assistant", content: [{ type: "output_text", text: turn.text, annotations: [] }] });
  }
  for (const call of turn.functionCalls ?? []) {
    items.push({ type: "function_call", id: `fc_${ids()}`, call_id: `call_${ids()}`, name: call.name, arguments: JSON.stringify(call.arguments), status: "completed" });
  }
  for (const call of turn.customToolCalls ?? []) {
    items.push({ type: "custom_tool_call", id: `ctc_${ids()}`, call_id: `call_${ids()}`, name: call.name, input: call.input, status: "completed" });
  }
  return items;
}

function openaiAnswer(res: ServerResponse, body: Json, turn: OpenAITurn, ids: () => string): void {
  const output = openaiOutput(turn, ids);
  const input = tokensOf(body["input"]);
  const outputTokens = tokensOf(output);
  const usage = {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + outputTokens,
  };
  const model = typeof body["model"] === "string" ? body["model"] : "gpt-scripted";
  const response = { id: `resp_${ids()}`, object: "response", created_at: Math.floor(Date.now() / 1000), model, status: "in_progress", output: [] as Json[] };
  if (body["stream"] !== true) {
    sendJson(res, 200, { ...response, status: "completed", output, usage });
    return;
  }
  let sequence = 0;
  const event = (type: string, data: Json) => sseEvent(type, { type, sequence_number: sequence++, ...data });
  const events = [event("response.created", { response }), event("response.in_progress", { response })];
  output.forEach((item, outputIndex) => {
    if (item["type"] === "message") {
      const text = turn.text ?? "";
      events.push(event("response.output_item.added", { output_index: outputIndex, item: { ...item, status: "in_progress", content: [] } }));
      events.push(event("response.content_part.added", { item_id: item["id"], output_index: outputIndex, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }));
      events.push(event("response.output_text.delta", { item_id: item["id"], output_index: outputIndex, content_index: 0, delta: text }));
      events.push(event("response.output_text.done", { item_id: item["id"], output_index: outputIndex, content_index: 0, text }));
      events.push(event("response.content_part.done", { item_id: item["id"], output_index: outputIndex, content_index: 0, part: { type: "output_text", text, annotations: [] } }));
    } else if (item["type"] === "function_call") {
      events.push(event("response.output_item.added", { output_index: outputIndex, item: { ...item, arguments: "", status: "in_progress" } }));
      events.push(event("response.function_call_arguments.delta", { item_id: item["id"], output_index: outputIndex, delta: item["arguments"] }));
      events.push(event("response.function_call_arguments.done", { item_id: item["id"], output_index: outputIndex, arguments: item["arguments"] }));
    } else {
      events.push(event("response.output_item.added", { output_index: outputIndex, item: { ...item, input: "", status: "in_progress" } }));
      events.push(event("response.custom_tool_call_input.delta", { item_id: item["id"], output_index: outputIndex, delta: item["input"] }));
      events.push(event("response.custom_tool_call_input.done", { item_id: item["id"], output_index: outputIndex, input: item["input"] }));
    }
    events.push(event("response.output_item.done", { output_index: outputIndex, item }));
  });
  events.push(event("response.completed", { response: { ...response, status: "completed", output, usage } }));
  sendSse(res, events);
}

export async function startScriptedModelServer(): Promise<ScriptedModelServer> {
  const requests: RecordedRequest[] = [];
  const scripts = {
    anthropic: { turns: [] as AnthropicTurn[], used: new Set<number>() },
    openai: { turns: [] as OpenAITurn[], used: new Set<number>() },
  };
  let counter = 0;
  const ids = () => `scripted${++counter}`;

  /** The first unused turn of the vendor's script that accepts the request, marked used. */
  const take = <T extends { when?: RequestMatcher }>(script: { turns: T[]; used: Set<number> }, request: RecordedRequest): [number, T] | null => {
    for (const [index, turn] of script.turns.entries()) {
      if (script.used.has(index) || !(turn.when ?? offersTools)(request)) continue;
      script.used.add(index);
      return [index, turn];
    }
    return null;
  };

  const handle = (request: RecordedRequest, res: ServerResponse): void => {
    const body = isObject(request.body) ? request.body : {};
    if (request.method === "POST" && request.path === "/v1/messages") {
      const picked = take(scripts.anthropic, request);
      request.answeredBy = picked ? picked[0] : "side";
      return anthropicAnswer(res, body, picked ? picked[1] : { text: SIDE_TEXT }, ids);
    }
    if (request.method === "POST" && request.path === "/v1/messages/count_tokens") {
      return sendJson(res, 200, { input_tokens: tokensOf(body["messages"]) });
    }
    if (request.method === "GET" && request.path === "/v1/models") {
      return sendJson(res, 200, { data: [], has_more: false, first_id: null, last_id: null });
    }
    if (request.method === "POST" && request.path === "/v1/responses") {
      const picked = take(scripts.openai, request);
      request.answeredBy = picked ? picked[0] : "side";
      return openaiAnswer(res, body, picked ? picked[1] : { text: SIDE_TEXT }, ids);
    }
    sendJson(res, 404, { error: { message: `the scripted model server does not serve ${request.method} ${request.path}` } });
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = req.url ?? "/";
      const path = url.split("?")[0] ?? "/";
      const vendor = path.startsWith("/v1/messages") ? "anthropic" : path.startsWith("/v1/responses") ? "openai" : "unknown";
      const request: RecordedRequest = { vendor, method: req.method ?? "", path, url, headers: req.headers, body: await readBody(req), answeredBy: null };
      requests.push(request);
      handle(request, res);
    })().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error) } });
      else res.destroy();
    });
  });
  // The Responses API also has a WebSocket transport that Codex tries first: refuse it plainly,
  // so the client falls back to HTTP.
  server.on("upgrade", (req: IncomingMessage, socket) => {
    requests.push({ vendor: "unknown", method: req.method ?? "", path: (req.url ?? "/").split("?")[0] ?? "/", url: req.url ?? "/", headers: req.headers, body: undefined, answeredBy: null });
    socket.end("HTTP/1.1 426 Upgrade Required\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sideText: SIDE_TEXT,
    script(vendor: Vendor, turns: AnthropicTurn[] | OpenAITurn[]) {
      // The overloads pair each vendor with its own kind of turn.
      if (vendor === "anthropic") scripts.anthropic = { turns: turns as AnthropicTurn[], used: new Set() };
      else scripts.openai = { turns: turns as OpenAITurn[], used: new Set() };
    },
    unusedTurns: (vendor) => scripts[vendor].turns.length - scripts[vendor].used.size,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The `tool_result` blocks Claude Code sent back, in order, with their text flattened. */
export function anthropicToolResults(requests: RecordedRequest[]): { toolUseId: string; isError: boolean; text: string }[] {
  const seen = new Map<string, { toolUseId: string; isError: boolean; text: string }>();
  for (const request of requests) {
    if (request.vendor !== "anthropic" || !isObject(request.body)) continue;
    const messages = request.body["messages"];
    if (!Array.isArray(messages)) continue;
    for (const message of messages) {
      const content = isObject(message) ? message["content"] : undefined;
      if (!Array.isArray(content)) continue;
      for (const block of content) {
        if (!isObject(block) || block["type"] !== "tool_result") continue;
        const id = String(block["tool_use_id"]);
        seen.set(id, { toolUseId: id, isError: block["is_error"] === true, text: flattenText(block["content"]) });
      }
    }
  }
  return [...seen.values()];
}

/** The `function_call_output` / `custom_tool_call_output` items Codex sent back, in order. */
export function openaiToolOutputs(requests: RecordedRequest[]): { callId: string; text: string }[] {
  const seen = new Map<string, { callId: string; text: string }>();
  for (const request of requests) {
    if (request.vendor !== "openai" || !isObject(request.body)) continue;
    const input = request.body["input"];
    if (!Array.isArray(input)) continue;
    for (const item of input) {
      if (!isObject(item) || (item["type"] !== "function_call_output" && item["type"] !== "custom_tool_call_output")) continue;
      const id = String(item["call_id"]);
      seen.set(id, { callId: id, text: flattenText(item["output"]) });
    }
  }
  return [...seen.values()];
}

function flattenText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(flattenText).join("\n");
  if (isObject(value)) {
    if (typeof value["text"] === "string") return value["text"];
    if ("content" in value) return flattenText(value["content"]);
    if ("output" in value) return flattenText(value["output"]);
  }
  return value === undefined ? "" : JSON.stringify(value);
}
