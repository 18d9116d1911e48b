// app/ — the GitHub App's front door: the webhook ingress (verify, store, answer), the Probot
// handlers — one thin file per trigger (label, `/task` comment, installations), each a guard and
// a call into tasks/ — the `/task` command parser, who may trigger, and the first-run setup flow.
// A handler never talks to a sandbox or an agent.
export {};
