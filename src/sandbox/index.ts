// sandbox/ — the SandboxProvider port (sandbox.ts) where agents run, and its adapters: e2b (the
// only file that imports the e2b SDK, through e2b-sdk.ts) and local (a process group in a
// workspace, with a scrubbed environment and argv without a shell). create-sandbox-provider.ts
// picks one from Config. The sandbox holds no credential.
export {};
