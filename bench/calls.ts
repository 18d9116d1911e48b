// `npm run bench:calls [-- --db postgres|pglite]`
//
// GitHub calls per default task: one `issues.labeled` → draft PR through the real server (the
// embedded engine, the local sandbox, an instant `command` agent, Probot's own Octokit) against
// the GitHub stand-in on loopback. Prints the writes and reads the stand-in answered (token mints
// counted apart), and the breakdown by route. A task that does not open its PR fails the bench.
import { benchHeader, oneOf, parseBenchOptions } from "./bench-helpers.ts";
import { benchAgentCommand, callsByRoute, classifyCalls, createBenchWorld, type BenchWorld } from "./bench-world.ts";

const options = parseBenchOptions("calls", { db: { default: "postgres" } }, "[--db postgres|pglite]", (values) => oneOf("db", values.db, ["postgres", "pglite"] as const));

async function main(): Promise<number> {
  if (!options) return 2;
  const { command, machine } = benchHeader("calls");
  console.log(`${command}\n${machine}\none default task, label → draft PR, instant command agent, local sandbox, ${options.db}`);
  let world: BenchWorld | undefined;
  try {
    world = await createBenchWorld({ agentCommand: benchAgentCommand(), db: options.db as "postgres" | "pglite" });
    const setupCalls = world.github.calls.length;
    const label = await world.send(world.labelDelivery(7));
    if (label.status !== 202) throw new Error(`the label delivery got ${label.status}`);
    const done = await world.waitForFinish(7, 180_000);
    if (!done.prUrl) throw new Error("the task finished without a pull request");
    const toPullRequest = (world.pullCreatedAt(done.prUrl) ?? Number.NaN) - label.sentAt;
    // Writes the scheduler still holds go out after the run's finish step: count once GitHub is quiet.
    for (let seen = -1; seen !== world.github.calls.length; ) {
      seen = world.github.calls.length;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    world.github.calls.splice(0, setupCalls);
    const { tokens, writes, reads } = classifyCalls(world.github.calls);
    const unknown = world.github.calls.filter((call) => call.status === 404 && !/\/contents\//.test(call.path));

    const mints = tokens.filter((call) => call.method === "POST").length;
    console.log(`\nlabel → PR created: ${(toPullRequest / 1000).toFixed(1)} s`);
    console.log(`Per task: ${writes.length} writes, ${reads.length} reads (tokens aside: ${mints} mints, ${tokens.length - mints} revocations); ${world.github.refused.length} refused by the secondary limit`);
    console.log(`\n| Route | Calls |\n|---|---:|`);
    for (const [route, count] of callsByRoute([...writes, ...reads])) console.log(`| ${route} | ${count} |`);
    if (unknown.length > 0) console.log(`\nThe stand-in answered 404 to: ${unknown.map((call) => `${call.method} ${call.path}`).join(", ")}`);
    return 0;
  } catch (error) {
    console.error(`\nbench:calls FAILED: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await world?.close();
  }
}

process.exitCode = await main();
