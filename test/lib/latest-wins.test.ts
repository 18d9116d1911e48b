// One update at a time per key, and only the latest request waiting: what lets progress on
// GitHub stay off the pipeline's critical path without ever showing an older state last.
import { describe, expect, it } from "vitest";
import { LatestWins } from "../../src/lib/latest-wins.ts";

/** Work that records its name when it starts and finishes when released. */
function gatedWork(log: string[]) {
  const gates = new Map<string, () => void>();
  const work = (name: string) => () =>
    new Promise<void>((resolve) => {
      log.push(name);
      gates.set(name, resolve);
    });
  const release = async (name: string) => {
    gates.get(name)!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { work, release };
}

describe("LatestWins", () => {
  it("runs one at a time per key, drops a waiting request a newer one replaces, and answers its caller when the newer one is done", async () => {
    const log: string[] = [];
    const { work, release } = gatedWork(log);
    const latest = new LatestWins();
    const answered: string[] = [];
    const submit = (name: string) => void latest.submit("comment:1", work(name)).then(() => answered.push(name));
    submit("v1");
    submit("v2");
    submit("v3");
    expect(log).toEqual(["v1"]);
    await release("v1");
    expect(answered).toEqual(["v1"]);
    // v2 was replaced by v3 before it started: it never runs.
    expect(log).toEqual(["v1", "v3"]);
    await release("v3");
    expect(answered).toEqual(["v1", "v2", "v3"]);
    expect(log).toEqual(["v1", "v3"]);
  });

  it("keys are independent", async () => {
    const log: string[] = [];
    const { work, release } = gatedWork(log);
    const latest = new LatestWins();
    void latest.submit("a", work("a1"));
    void latest.submit("b", work("b1"));
    expect(log).toEqual(["a1", "b1"]);
    await release("a1");
    await release("b1");
  });

  it("a failed update neither rejects its caller nor stops the key's next one", async () => {
    const latest = new LatestWins();
    const ran: string[] = [];
    const failing = latest.submit("k", async () => {
      ran.push("fails");
      throw new Error("GitHub said no");
    });
    const next = latest.submit("k", async () => void ran.push("next"));
    await expect(failing).resolves.toBeUndefined();
    await next;
    expect(ran).toEqual(["fails", "next"]);
  });

  it("settled waits for everything under a prefix, including what was queued while waiting", async () => {
    const log: string[] = [];
    const { work, release } = gatedWork(log);
    const latest = new LatestWins();
    void latest.submit("run-1:plan", work("plan"));
    void latest.submit("run-2:plan", work("other run"));
    let settled = false;
    void latest.settled("run-1:").then(() => (settled = true));
    void latest.submit("run-1:plan", work("plan again"));
    await release("plan");
    expect(settled).toBe(false);
    await release("plan again");
    expect(settled).toBe(true);
    // Another run's update is not waited for.
    expect(log).toContain("other run");
    await release("other run");
  });
});
