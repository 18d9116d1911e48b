// A webhook request over a raw HTTP connection, for what fetch cannot do: send the headers
// and hold the body back (so a test can see whether the server answered before reading it),
// send part of a body and stall, lie about the length, or repeat a header.
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawWebhookRequest {
  /** The server's answer; rejects if the connection ends without one. */
  answer: Promise<RawAnswer>;
  /** Resolves once the connection is closed, by either side. */
  closed: Promise<void>;
  /** Whether an answer has arrived yet (it may, before any of the body was sent). */
  answered(): boolean;
  /** Body bytes written so far. */
  sent(): number;
  /** Writes `bytes` of body (copies of `fill`), waiting for the socket to drain; stops quietly if it closes. */
  send(bytes: number, fill?: Buffer): Promise<void>;
  end(): void;
  destroy(): void;
}

/** Opens a POST to `url` and sends its headers at once, with no body yet. */
export function openWebhookRequest(url: string, headers: OutgoingHttpHeaders): RawWebhookRequest {
  // Asks to keep the connection open, as GitHub's client does: closing it is the server's choice.
  const req = request(url, { method: "POST", headers: { connection: "keep-alive", ...headers }, agent: false });
  let sentBytes = 0;
  let hasAnswer = false;
  let open = true;
  const closed = new Promise<void>((resolve) => req.once("close", () => ((open = false), resolve())));
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    req.once("response", (res) => {
      hasAnswer = true;
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.once("error", reject);
    });
    // Writing into a connection the server closed fails here; only a missing answer matters.
    req.on("error", (error) => {
      if (!hasAnswer) reject(error);
    });
  });
  answer.catch(() => undefined);
  req.flushHeaders();
  return {
    answer,
    closed,
    answered: () => hasAnswer,
    sent: () => sentBytes,
    async send(bytes, fill = Buffer.alloc(64 * 1024, "x")) {
      while (bytes > 0 && open && !req.destroyed) {
        const chunk = fill.subarray(0, Math.min(bytes, fill.length));
        bytes -= chunk.length;
        sentBytes += chunk.length;
        if (!req.write(chunk)) await new Promise<void>((resolve) => (req.once("drain", resolve), req.once("close", resolve)));
      }
    },
    end: () => req.end(),
    destroy: () => req.destroy(),
  };
}

/**
 * The answer to a request whose body has not been sent: the server must decide from the headers.
 * The bound only keeps a server that waits for the body from hanging the test.
 */
export async function answerBeforeBody(req: RawWebhookRequest, boundMs = 10_000): Promise<RawAnswer> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${boundMs / 1000} s while the body was held back: the server waits for it`)), boundMs);
  });
  try {
    return await Promise.race([req.answer, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Headers without the ones set to undefined (a test leaves a header out that way). */
export function presentHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as OutgoingHttpHeaders;
}
