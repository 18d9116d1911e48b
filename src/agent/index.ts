// agent/ — the agent runtimes that run inside a sandbox: claude (Claude Code, stream-json), codex
// (codex exec --json) and command (the operator's script, per the command contract), the role
// prompts that fence GitHub text as untrusted (prompts.ts), and reading their results (the
// reviewer's verdict, streamed output). create-agent-runtime.ts picks one from Config.
export {};
