// The inbox on a real database, with a handler the test controls: order and concurrency,
// retries then failure, leases (expired, renewed, fenced), shutdown and pruning.
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createWebhookInbox, type InboxEvent, type InboxOptions } from "../../src/inbox/index.ts";
import { claimDue, markProcessed, storeDelivery } from "../../src/db/webhook-deliveries.ts";
import { AppError } from "../../src/lib/errors.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { waitFor } from "../helpers/wait-for.ts";

const log = pino({ level: "silent" });

describe.each(testDatabases)("webhook inbox on %s", (kind) => {
  let db: TestDatabase;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  beforeEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await db.prisma.webhookDelivery.deleteMany();
  });
  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
    await db?.close();
  });

  const row = (id: string) => db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id } });
  const store = (id: string, payload: object = { action: "labeled" }) =>
    storeDelivery(db.prisma, { id, event: "issues", action: "labeled", installationId: 4242, payload, payloadJson: JSON.stringify(payload) });

  async function startInbox(handle: (event: InboxEvent) => Promise<void>, options: Partial<InboxOptions> = {}, retentionDays = 7) {
    const inbox = createWebhookInbox({ db: db.prisma, handle, log, retentionDays, options: { retryDelaysMs: [10, 20], pollMs: 50, ...options } });
    await inbox.start();
    stops.push(() => inbox.stop());
    return inbox;
  }

  it("stores a delivery once; a redelivery re-arms it only while it waits for a retry or has failed", async () => {
    expect(await store("d1", { text: "a NUL \u0000 in an issue body" })).toBe("stored");
    expect((await row("d1")).payload).toEqual({ text: "a NUL \uFFFD in an issue body" });
    expect(await store("d1")).toBe("duplicate"); // new, not yet run

    await db.prisma.webhookDelivery.update({ where: { id: "d1" }, data: { status: "pending", attempts: 2, nextAttemptAt: new Date(Date.now() + 3_600_000) } });
    expect(await store("d1")).toBe("rearmed");
    expect(await row("d1")).toMatchObject({ status: "pending", attempts: 2 });
    expect((await row("d1")).nextAttemptAt.getTime()).toBeLessThan(Date.now() + 60_000);

    await db.prisma.webhookDelivery.update({ where: { id: "d1" }, data: { status: "failed", attempts: 5 } });
    expect(await store("d1")).toBe("rearmed");
    expect(await row("d1")).toMatchObject({ status: "pending", attempts: 0 });

    for (const status of ["processing", "processed"] as const) {
      await db.prisma.webhookDelivery.update({ where: { id: "d1" }, data: { status } });
      expect(await store("d1")).toBe("duplicate");
      expect((await row("d1")).status).toBe(status);
    }
  });

  it("runs a delivery stored while there is room from memory, and one stored while full from the table", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const payloads: unknown[] = [];
    const inbox = await startInbox(async (event) => {
      payloads.push(event.payload);
      await gate;
    }, { concurrency: 1 });
    const delivery = (id: string) => ({ id, event: "issues", action: "labeled", installationId: 4242, payload: { id }, payloadJson: JSON.stringify({ id }) });
    expect(await inbox.store(delivery("m1"))).toBe(true);
    expect(await row("m1")).toMatchObject({ status: "processing", attempts: 1 });
    inbox.accepted(delivery("m1"));
    expect(await inbox.store(delivery("m2"))).toBe(true);
    expect(await row("m2")).toMatchObject({ status: "pending", attempts: 0 });
    inbox.accepted(delivery("m2"));
    expect(await inbox.store(delivery("m1"))).toBe(false);
    release();
    await inbox.idle();
    expect(payloads).toEqual([{ id: "m1" }, { id: "m2" }]);
    expect([(await row("m1")).status, (await row("m2")).status]).toEqual(["processed", "processed"]);
  });

  it("runs due deliveries oldest first, at most `concurrency` at once, and drops each payload once processed", async () => {
    const ids = ["o1", "o2", "o3", "o4", "o5", "o6"];
    for (const [index, id] of ids.entries()) {
      await store(id);
      await db.prisma.webhookDelivery.update({ where: { id }, data: { receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)) } });
    }
    const started: string[] = [];
    let inFlight = 0;
    let most = 0;
    const inbox = await startInbox(async (event) => {
      started.push(event.id);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
    }, { concurrency: 2 });
    await inbox.idle();
    expect(started).toEqual(ids);
    expect(most).toBe(2);
    const rows = await db.prisma.webhookDelivery.findMany({ orderBy: { id: "asc" } });
    expect(rows.map((r) => [r.status, r.attempts, r.payload, r.processedAt !== null])).toEqual(ids.map(() => ["processed", 1, null, true]));
  });

  it("retries a failing handler after a pause, then marks it failed with its reason", async () => {
    await store("f1");
    await store("f2");
    const runs: string[] = [];
    await startInbox(async (event) => {
      runs.push(event.id);
      if (event.id === "f1" || runs.filter((id) => id === "f2").length === 1) throw new AggregateError([new Error("GitHub answered 502 Bad Gateway")], "x");
    });
    await waitFor(async () => (await row("f1")).status === "failed" && (await row("f2")).status === "processed");
    expect(await row("f1")).toMatchObject({ status: "failed", attempts: 3, lastError: "GitHub answered 502 Bad Gateway", leaseExpiresAt: null });
    // The payload stays, so an operator can run it again.
    expect((await row("f1")).payload).toEqual({ action: "labeled" });
    expect(await row("f2")).toMatchObject({ status: "processed", attempts: 2, lastError: "GitHub answered 502 Bad Gateway" });
    expect(runs.filter((id) => id === "f1")).toHaveLength(3);
  });

  it("marks a failure that retrying cannot fix failed at once", async () => {
    await store("p1");
    const inbox = await startInbox(async () => {
      throw new AggregateError([new AppError("forbidden", "feature_disabled", 'the "tasks" feature flag is not enabled for this team')], "x");
    });
    await inbox.idle();
    expect(await row("p1")).toMatchObject({ status: "failed", attempts: 1, lastError: 'the "tasks" feature flag is not enabled for this team' });
  });

  it("claims a delivery again once the lease of the process that claimed it ran out, and fences that process out", async () => {
    await store("l1");
    // Another process claimed it and died holding the lease.
    const [dead] = await claimDue(db.prisma, 1, 60_000);
    const handled: string[] = [];
    const inbox = await startInbox(async (event) => void handled.push(event.id));
    await inbox.idle();
    expect(handled).toEqual([]);
    expect(await row("l1")).toMatchObject({ status: "processing", attempts: 1 });

    await db.prisma.$executeRaw`UPDATE webhook_deliveries SET lease_expires_at = now() - interval '1 second' WHERE id = 'l1'`;
    await inbox.idle();
    expect(handled).toEqual(["l1"]);
    expect(await row("l1")).toMatchObject({ status: "processed", attempts: 2 });
    // The first claim's late outcome changes nothing.
    expect(await markProcessed(db.prisma, [dead!])).toBe(0);
  });

  it("renews the lease while a handler runs, and stops claiming but finishes the handler on stop()", async () => {
    await store("r1");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    const inbox = await startInbox(async () => {
      entered = true;
      await gate;
    }, { leaseMs: 600 });
    await waitFor(async () => entered);
    const first = (await row("r1")).leaseExpiresAt!;
    await waitFor(async () => (await row("r1")).leaseExpiresAt! > first);
    expect(await claimDue(db.prisma, 1, 60_000)).toEqual([]);

    let stopped = false;
    const stopping = inbox.stop().then(() => (stopped = true));
    await store("r2");
    inbox.accepted({ id: "r2", event: "issues", action: "labeled", installationId: 4242, payload: {}, payloadJson: "{}" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect((await row("r1")).status).toBe("processed");
    expect(await row("r2")).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("prunes processed deliveries older than the retention period when it starts, and nothing else", async () => {
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);
    for (const [id, status, processedAt] of [
      ["old-processed", "processed", daysAgo(8)],
      ["recent-processed", "processed", daysAgo(6)],
      ["old-failed", "failed", null],
      ["old-pending", "pending", null],
    ] as const) {
      await db.prisma.webhookDelivery.create({ data: { id, event: "issues", status, processedAt, receivedAt: daysAgo(30), nextAttemptAt: daysAgo(-1) } });
    }
    await startInbox(async () => {});
    expect((await db.prisma.webhookDelivery.findMany({ orderBy: { id: "asc" } })).map((r) => r.id)).toEqual(["old-failed", "old-pending", "recent-processed"]);
  });
});
