// The write queue's depth per installation, as /metrics reads it: writes waiting, not the one
// being sent, and nothing left once the queue has drained.
import { describe, expect, it } from "vitest";
import { createWriteSchedulers } from "../../src/github/write-scheduler.ts";

describe("write queue depths", () => {
  it("counts each installation's waiting writes, without the one in flight, down to zero", async () => {
    // No spacing and no window to wait for: only the write in flight holds the others back.
    const schedulers = createWriteSchedulers({ minSpacingMs: 0, perMinute: 1_000, reservedPerMinute: 0 });
    expect(schedulers.depths()).toEqual(new Map());

    let release!: () => void;
    const inFlight = new Promise<void>((resolve) => (release = resolve));
    const sent: string[] = [];
    const write = (name: string, wait?: Promise<void>) => ({
      priority: "publish" as const,
      send: async () => {
        sent.push(name);
        await wait;
        return name;
      },
    });
    const done = [
      schedulers.schedule(1, write("a", inFlight)),
      schedulers.schedule(1, write("b")),
      schedulers.schedule(1, { ...write("c"), priority: "progress", coalesceKey: "comment" }),
      // A newer progress update to the same place replaces the queued one: it is one write waiting.
      schedulers.schedule(1, { ...write("c2"), priority: "progress", coalesceKey: "comment" }),
      schedulers.schedule(2, write("x")),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(["a", "x"]);
    expect(schedulers.depths()).toEqual(new Map([[1, 2], [2, 0]]));

    release();
    expect(await Promise.all(done)).toEqual(["a", "b", "c2", "c2", "x"]);
    expect(schedulers.depths()).toEqual(new Map([[1, 0], [2, 0]]));
  });
});
