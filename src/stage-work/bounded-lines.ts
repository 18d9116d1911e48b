// A queue of lines with a ceiling on count and bytes: past it the oldest lines are dropped and
// counted, so memory stays bounded however fast lines arrive. Dropping is O(1) (a moving start
// index, compacted now and then) so a flood costs time linear in its size.

export class BoundedLines {
  private lines: string[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytes = 0;
  private droppedLines = 0;
  private highWater = { lines: 0, bytes: 0 };

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  /** Adds a line of `size` bytes, dropping the oldest lines beyond the ceiling. */
  push(line: string, size: number): void {
    this.lines.push(line);
    this.sizes.push(size);
    this.bytes += size;
    while (this.length > this.maxLines || (this.bytes > this.maxBytes && this.length > 0)) {
      this.bytes -= this.sizes[this.start]!;
      this.start += 1;
      this.droppedLines += 1;
    }
    if (this.start > 1024 && this.start * 2 > this.lines.length) this.compact();
    this.highWater = { lines: Math.max(this.highWater.lines, this.length), bytes: Math.max(this.highWater.bytes, this.bytes) };
  }

  get length(): number {
    return this.lines.length - this.start;
  }

  /** The most lines and bytes held at once. */
  get peak(): { lines: number; bytes: number } {
    return { ...this.highWater };
  }

  /** Everything held and how many lines were dropped since the last take; empties the queue. */
  take(): { lines: string[]; dropped: number } {
    const taken = { lines: this.lines.slice(this.start), dropped: this.droppedLines };
    this.lines = [];
    this.sizes = [];
    this.start = 0;
    this.bytes = 0;
    this.droppedLines = 0;
    return taken;
  }

  private compact(): void {
    this.lines = this.lines.slice(this.start);
    this.sizes = this.sizes.slice(this.start);
    this.start = 0;
  }
}
