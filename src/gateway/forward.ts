// Forwards one request to the vendor and streams the answer back as it arrives: chunks are
// written to the client the moment the upstream sends them (server-sent events stay live), with
// backpressure, and each chunk is shown to `onChunk` on its way (the usage meter).
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { endToEndHeaders } from "../lib/hop-by-hop.ts";

// Besides the hop-by-hop headers: the client's credentials and cookies never reach the vendor,
// and identity encoding keeps the stream readable for the meter.
const alsoDropped: ReadonlySet<string> = new Set(["authorization", "x-api-key", "cookie", "set-cookie", "accept-encoding"]);

export const forwardableHeaders = (headers: IncomingHttpHeaders): Record<string, string | string[]> => endToEndHeaders(headers, alsoDropped);

export interface Forward {
  req: IncomingMessage;
  res: ServerResponse;
  target: URL;
  /** Added to the client's forwardable headers: the operator's key. */
  auth: Record<string, string>;
  onResponse(contentType: string | undefined): void;
  onChunk(chunk: Buffer): void;
  /**
   * Called once when the exchange is over, however it ended. A complete answer's last byte waits
   * for it, so the client's next request sees what this one recorded.
   */
  onEnd(): Promise<void>;
  /** The upstream could not be reached (before any answer). */
  onUnreachable(error: Error): void;
}

export function forward(options: Forward): void {
  const { req, res, target } = options;
  const client = target.protocol === "https:" ? https : http;
  let ended: Promise<void> | undefined;
  const end = () => (ended ??= options.onEnd());
  const upstream = client.request(target, { method: req.method, headers: { ...forwardableHeaders(req.headers), "accept-encoding": "identity", ...options.auth } });
  upstream.on("error", (error) => {
    if (!res.headersSent) options.onUnreachable(error);
    else res.destroy(error);
    void end();
  });
  upstream.on("response", (answer) => {
    options.onResponse(answer.headers["content-type"]);
    res.writeHead(answer.statusCode ?? 502, forwardableHeaders(answer.headers));
    res.flushHeaders();
    answer.on("data", (chunk: Buffer) => {
      options.onChunk(chunk);
      if (!res.write(chunk)) answer.pause();
    });
    res.on("drain", () => answer.resume());
    answer.on("end", () => void end().finally(() => res.end()));
    answer.on("error", () => res.destroy());
    answer.on("close", () => void end());
  });
  // A client that goes away stops the upstream call too: nobody would read the rest.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
