// The `command` agent of the shutdown tests and the test's side of it. The script announces itself
// (`started-<role>` in its scratch directory, which the host sees under TASKS_DATA_DIR/workspaces)
// and waits for `go-<role>`: the test plays the model, so it counts every agent invocation and
// decides when each one finishes, without timing anything.
import { existsSync, readdirSync } from "node:fs";
import { unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { waitFor } from "../helpers/wait-for.ts";

/** The line the coder adds to README.md: found once in the pushed branch when the coder's change landed once. */
export const coderLine = "Survived a restart.";

/** The `command` agent: announce, wait for the test's go, then do the role's work. */
export const agentScript = `set -eu
scratch=$(dirname "$TASK_PROMPT_FILE")
: > "$scratch/started-$TASK_ROLE"
i=0
while [ ! -e "$scratch/go-$TASK_ROLE" ]; do i=$((i + 1)); [ "$i" -lt 6000 ] || exit 3; sleep 0.05; done
rm -f "$scratch/go-$TASK_ROLE"
case "$TASK_ROLE" in
  planner) printf 'Plan\\n\\n1. Add a note to the README.\\n' > "$TASK_OUTPUT_FILE" ;;
  coder) printf '\\n${coderLine}\\n' >> README.md; printf 'Added a note.\\n' > "$TASK_OUTPUT_FILE" ;;
  reviewer) printf 'APPROVE\\nLooks good.\\n' > "$TASK_OUTPUT_FILE" ;;
esac
`;

export type Model = ReturnType<typeof createModel>;

/** The test's side of the agent script: every invocation it saw, by role. */
export function createModel(dataDir: string) {
  const started: string[] = [];
  const workspaces = path.join(dataDir, "workspaces");
  const scratchDirs = () => (existsSync(workspaces) ? readdirSync(workspaces).map((id) => path.join(workspaces, id, "scratch")) : []);
  return {
    started,
    /** Waits for the role's agent to start, counts it, and returns its scratch directory. */
    async awaitStart(role: string): Promise<string> {
      let found: string | undefined;
      await waitFor(async () => (found = scratchDirs().find((dir) => existsSync(path.join(dir, `started-${role}`)))) !== undefined, `the ${role} starting`, 90_000);
      await unlink(path.join(found!, `started-${role}`));
      started.push(role);
      return found!;
    },
    release: (scratch: string, role: string) => writeFile(path.join(scratch, `go-${role}`), ""),
  };
}

