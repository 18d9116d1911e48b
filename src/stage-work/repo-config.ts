// `.github/tasks.yml`, read by the control plane from the repository's default branch and
// parsed once at this boundary. Invalid config fails the task with the file and the field.
import { parse } from "yaml";
import { z } from "zod";
import { PermanentFailure } from "../lib/errors.ts";

export const repoConfigPath = ".github/tasks.yml";

const RepoConfigSchema = z.strictObject({
  /** Branch the task starts from and the PR targets; default: the repository's default branch. */
  base_branch: z.string().regex(/^[A-Za-z0-9._/-]{1,200}$/, "a branch name").optional(),
  /** Commands run in the sandbox before the agent (argv-free: they are the repository's own). */
  setup: z
    .strictObject({
      commands: z.array(z.string().min(1).max(2000)).max(20).default([]),
      /** Seconds for all setup commands together. */
      timeout_seconds: z.number().int().min(1).max(3600).default(600),
    })
    .optional(),
  agent: z
    .strictObject({
      runtime: z.enum(["claude", "codex", "command"]).optional(),
      model: z.string().min(1).max(100).optional(),
    })
    .optional(),
  /**
   * More paths the agent may not change, as globs (`*`, `?`, `**`; a directory covers what is in
   * it). Everything under `.github/` is protected whatever this says.
   */
  protected_paths: z
    .array(
      z
        .string()
        .min(1)
        .max(200)
        .refine((glob) => !glob.split("/").includes(".."), "a glob inside the repository (no `..`)"),
    )
    .max(100)
    .optional(),
  pull_request: z
    .strictObject({
      draft: z.boolean().default(true),
      labels: z.array(z.string().min(1).max(50)).max(10).default([]),
    })
    .optional(),
});

export type RepoConfig = z.infer<typeof RepoConfigSchema>;

/** Parses the file's text; an empty or absent file is the default config. */
export function parseRepoConfig(text: string | null): RepoConfig {
  if (text === null || text.trim() === "") return {};
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new PermanentFailure(`${repoConfigPath} is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const parsed = RepoConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]].join(".") : issue.path.join(".");
    const message = issue.code === "unrecognized_keys" ? "is not a known setting" : issue.message;
    throw new PermanentFailure(`${repoConfigPath}: ${field || "(top level)"} ${message}`);
  }
  return parsed.data;
}
