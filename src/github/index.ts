// github/ — talking to GitHub's API for the control plane: the App's clients and narrowed
// installation tokens (github-clients.ts, installation-token.ts), check runs, the tracking
// comment, pull requests and their bodies, commit messages, and GitHub's size limits
// (github-limits.ts). Knows nothing of the database or the pipeline.
export {};
