// gateway/ — the model gateway of the control plane (ARCHITECTURE.md, "Planes and trust"): per-run
// tokens the sandboxed agent uses instead of a model key (run-tokens.ts), the HTTP routes that
// check them and forward to Anthropic or OpenAI with the operator's key (create-model-gateway.ts,
// forward.ts, vendors.ts), the usage read from the answers as they stream (usage-meter.ts) and the
// per-run token budget (budget.ts). server.ts mounts it on the app's port; stage-work/ mints and
// revokes the tokens around each agent run.
export {};
