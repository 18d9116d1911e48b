// `npm run bench`: every benchmark in turn, each as `npm run bench:<part>` with its defaults and
// its own output. Exits non-zero when any part could not run, after running the rest.
import { spawnSync } from "node:child_process";

const parts = ["calls", "ingress", "storms", "first-sign-of-life", "orchestration", "api", "engines"];
const failed: string[] = [];
for (const part of parts) {
  console.log(`\n######## bench:${part} ########\n`);
  const { status } = spawnSync("npm", ["run", "-s", `bench:${part}`], { stdio: "inherit" });
  if (status !== 0) failed.push(`${part} (exit ${status ?? "signal"})`);
}
if (failed.length > 0) console.error(`\nnpm run bench: ${failed.join(", ")} could not run`);
process.exitCode = failed.length > 0 ? 1 : 0;
