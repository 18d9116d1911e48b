// The log format's default (src/config.ts decides it) and what each format writes.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig, logFormat } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";

const terminal = { stdoutIsTTY: true };
const pipe = { stdoutIsTTY: false };

describe("the log format", () => {
  it("is readable on a terminal outside production, JSON for a pipe or in production", () => {
    expect(logFormat(undefined, undefined, terminal)).toBe("pretty");
    expect(logFormat(undefined, "development", terminal)).toBe("pretty");
    expect(logFormat(undefined, "production", terminal)).toBe("json");
    expect(logFormat(undefined, undefined, pipe)).toBe("json");
    expect(logFormat(undefined, "development", pipe)).toBe("json");
  });

  it("is what LOG_FORMAT says when it is set, whatever stdout is", () => {
    expect(logFormat("json", undefined, terminal)).toBe("json");
    expect(logFormat("pretty", "production", pipe)).toBe("pretty");
  });

  it("is chosen by loadConfig from LOG_FORMAT, NODE_ENV and the terminal passed in", () => {
    expect(loadConfig({}, terminal).log.format).toBe("pretty");
    expect(loadConfig({ NODE_ENV: "production" }, terminal).log.format).toBe("json");
    expect(loadConfig({}, pipe).log.format).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "" }, terminal).log.format).toBe("pretty");
    expect(loadConfig({ LOG_FORMAT: "json" }, terminal).log.format).toBe("json");
    expect(loadConfig({ LOG_FORMAT: "pretty" }, pipe).log.format).toBe("pretty");
  });

  it("refuses an unknown LOG_FORMAT, naming the variable and the choices", () => {
    expect(() => loadConfig({ LOG_FORMAT: "yaml" }, pipe)).toThrow(/^LOG_FORMAT: expected one of "json"\|"pretty" \(got "yaml"\)$/);
  });
});

/** A stream to hand a logger, and everything written to it so far. */
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

describe("createLogger", () => {
  it("writes one JSON object a line, with the ids bound by child loggers and secrets redacted", async () => {
    const out = capture();
    const log = createLogger({ log: { level: "info", format: "json" } }, out.stream);
    log.child({ taskId: "t-1", runId: "r-1" }).child({ deliveryId: "d-1" }).info({ request: { token: "ghs_secret" } }, "stage entered");
    log.debug("not at info level");
    await new Promise((resolve) => setImmediate(resolve));
    const lines = out.text().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, taskId: "t-1", runId: "r-1", deliveryId: "d-1", msg: "stage entered", request: { token: "[redacted]" } });
  });

  it("writes readable lines in the pretty format: level, message and the bound ids, no JSON", async () => {
    const out = capture();
    const log = createLogger({ log: { level: "info", format: "pretty" } }, out.stream);
    log.child({ taskId: "t-1", runId: "r-1" }).warn("could not update the check run");
    await new Promise((resolve) => setImmediate(resolve));
    const text = out.text();
    expect(text).toMatch(/WARN.*could not update the check run/);
    expect(text).toMatch(/taskId: "t-1"/);
    expect(text).toMatch(/runId: "r-1"/);
    expect(() => JSON.parse(text.trim().split("\n")[0]!)).toThrow();
  });
});
