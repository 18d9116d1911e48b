// repository-host/ — the two homes a task's repository can have, behind the RepositoryHost port
// of stage-work/: GitHub (github-repository-host.ts: narrowed installation tokens, check runs,
// push, pull request) and a local repository for `tasks run --repo-path`
// (local-repository-host.ts: a branch in that repository, no GitHub at all).
export {};
