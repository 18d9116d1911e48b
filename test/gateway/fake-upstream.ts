// A vendor stand-in on 127.0.0.1: each test says how it answers and reads what it was sent.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface UpstreamRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type UpstreamAnswer = (req: UpstreamRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeUpstream {
  url: string;
  requests: UpstreamRequest[];
  answer(with_: UpstreamAnswer): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: UpstreamRequest[] = [];
  let answer: UpstreamAnswer = (_req, res) => void res.writeHead(500).end("no answer set");
  const server = http.createServer((req, res) => {
    void (async () => {
      const seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: await readBody(req) };
      requests.push(seen);
      await answer(seen, res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (next) => (answer = next),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export const sse = (events: { event?: string; data: object }[]): string =>
  events.map(({ event, data }) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`).join("");
