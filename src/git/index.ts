// git/ — plain git for the control plane, with no GitHub in it: a runner that calls git with a
// scrubbed environment and argv only (git-runner.ts), clones, bundles, applying the sandbox's
// patch and pushing (git.ts), task branch names and the checks that keep an untrusted patch out of
// .git/ (branch-name.ts, patch-paths.ts). Used by the GitHub host and by local runs alike.
export {};
