// The two vendors the gateway speaks for: where their API lives, how the operator's key is sent,
// which paths an agent may call, and how an error looks to their clients (so the CLIs show it).
export type VendorName = "anthropic" | "openai";

export interface Vendor {
  name: VendorName;
  /** The configuration variable holding the operator's key, named in errors. */
  keyVariable: "ANTHROPIC_API_KEY" | "OPENAI_API_KEY";
  /**
   * Paths (after `/model/<vendor>`) an agent may call: the model endpoints only, so the operator's
   * key cannot be used on the vendor's files, batches or admin endpoints.
   */
  allowedPath: RegExp;
  authHeaders(key: string): Record<string, string>;
  errorBody(kind: GatewayErrorKind, message: string): object;
}

export type GatewayErrorKind = "unauthorized" | "not_found" | "budget" | "unconfigured" | "upstream";

const anthropicTypes: Record<GatewayErrorKind, string> = {
  unauthorized: "authentication_error",
  not_found: "not_found_error",
  // Anthropic's own type for 402: clients do not retry it (they would retry a 429).
  budget: "billing_error",
  unconfigured: "api_error",
  upstream: "api_error",
};
const openaiTypes: Record<GatewayErrorKind, { type: string; code: string }> = {
  unauthorized: { type: "invalid_request_error", code: "invalid_api_key" },
  not_found: { type: "invalid_request_error", code: "unknown_url" },
  budget: { type: "insufficient_quota", code: "token_budget_exceeded" },
  unconfigured: { type: "server_error", code: "gateway_unconfigured" },
  upstream: { type: "server_error", code: "upstream_unreachable" },
};

export const vendors: Record<VendorName, Vendor> = {
  anthropic: {
    name: "anthropic",
    keyVariable: "ANTHROPIC_API_KEY",
    allowedPath: /^\/v1\/(messages(\/count_tokens)?|models(\/[A-Za-z0-9._-]+)?)$/,
    authHeaders: (key) => ({ "x-api-key": key }),
    errorBody: (kind, message) => ({ type: "error", error: { type: anthropicTypes[kind], message } }),
  },
  openai: {
    name: "openai",
    keyVariable: "OPENAI_API_KEY",
    allowedPath: /^\/(responses|chat\/completions|models(\/[A-Za-z0-9._-]+)?)$/,
    authHeaders: (key) => ({ authorization: `Bearer ${key}` }),
    errorBody: (kind, message) => ({ error: { message, ...openaiTypes[kind], param: null } }),
  },
};

export const gatewayStatus: Record<GatewayErrorKind, number> = { unauthorized: 401, not_found: 404, budget: 402, unconfigured: 503, upstream: 502 };
