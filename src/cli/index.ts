// cli/ — the `tasks` operator command: subcommands over the admin API (commands/), and
// `tasks run --repo-path`, which runs the whole pipeline in this process against a local
// repository (local-run.ts). Entry: main.ts.
export {};
