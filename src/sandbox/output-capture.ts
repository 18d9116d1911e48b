// A command's output as both adapters collect it: streamed to the caller's listener as it
// arrives, and kept for the result up to a cap per stream. The cap keeps the tail — a runaway
// agent can print gigabytes, and the end is what says why it stopped — and says how much of the
// head was dropped.
import { StringDecoder } from "node:string_decoder";

export type OutputStream = "stdout" | "stderr";
export type OutputListener = (chunk: string, stream: OutputStream) => void;

export const DEFAULT_MAX_OUTPUT_BYTES = 10 * 1024 * 1024;

// Chunks are dropped from the front by moving `start` (compacted now and then) rather than with
// Array#shift, which copies the whole array once it is large: many tiny chunks stay linear.
class TailBuffer {
  private chunks: Buffer[] = [];
  private start = 0;
  private size = 0;
  private dropped = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.maxBytes) {
      const first = this.chunks[this.start]!;
      const excess = this.size - this.maxBytes;
      const cut = Math.min(excess, first.length);
      if (cut === first.length) this.start += 1;
      else this.chunks[this.start] = first.subarray(cut);
      this.size -= cut;
      this.dropped += cut;
    }
    if (this.start > 1024 && this.start * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.start);
      this.start = 0;
    }
  }

  text(stream: OutputStream): string {
    const bytes = Buffer.concat(this.chunks.slice(this.start));
    if (this.dropped === 0) return bytes.toString("utf8");
    // The cut may fall inside a UTF-8 sequence: skip its continuation bytes instead of decoding
    // them as replacement characters.
    let start = 0;
    while (start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start += 1;
    return `[… ${this.dropped + start} bytes of ${stream} truncated …]\n${bytes.subarray(start).toString("utf8")}`;
  }
}

export class OutputCapture {
  private readonly tails: Record<OutputStream, TailBuffer>;
  private readonly decoders: Record<OutputStream, StringDecoder> = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private listenerFailure: { error: unknown } | undefined;
  private sealed = false;

  constructor(
    maxBytes: number,
    private readonly listener?: OutputListener,
  ) {
    this.tails = { stdout: new TailBuffer(maxBytes), stderr: new TailBuffer(maxBytes) };
  }

  /** Raw bytes from a pipe; a character split across chunks reaches the listener whole. */
  pushBytes(stream: OutputStream, bytes: Buffer): void {
    if (this.sealed) return;
    this.tails[stream].push(bytes);
    const text = this.decoders[stream].write(bytes);
    if (text !== "") this.emit(text, stream);
  }

  /** Text the producer already decoded (the E2B SDK hands out strings). */
  pushText(stream: OutputStream, text: string): void {
    if (this.sealed) return;
    this.tails[stream].push(Buffer.from(text, "utf8"));
    this.emit(text, stream);
  }

  /**
   * Ends the capture: flushes partial characters to the listener and ignores anything that
   * still arrives (output of a command already reported as stopped).
   */
  seal(): void {
    if (this.sealed) return;
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.decoders[stream].end();
      if (rest !== "") this.emit(rest, stream);
    }
    this.sealed = true;
  }

  /**
   * The listener's first error. A throwing listener stops receiving output but never stops the
   * command; the adapter rethrows this error once the command has ended.
   */
  get failure(): { error: unknown } | undefined {
    return this.listenerFailure;
  }

  result(): { stdout: string; stderr: string } {
    return { stdout: this.tails.stdout.text("stdout"), stderr: this.tails.stderr.text("stderr") };
  }

  private emit(text: string, stream: OutputStream): void {
    if (!this.listener || this.listenerFailure) return;
    try {
      this.listener(text, stream);
    } catch (error) {
      this.listenerFailure = { error };
    }
  }
}
