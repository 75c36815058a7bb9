/**
 * Cuts the stdout of a looping `nvidia-smi --query-… -lms <interval>` into frames (one sample of all GPUs or
 * all processes). nvidia-smi prints no delimiter between samples and nothing at all for a sample with no
 * compute process, so a frame is told by time: each sample is written in one burst (recorded on an H200,
 * driver 580.159.04: one write per sample, 500 ms apart, see test/fixtures/nvidia/README.md), and a line
 * that arrives more than `gapMs` after the previous one starts a new frame. Pure: the caller passes the
 * clock, so tests replay recorded chunk timings.
 *
 * The reader can fall behind (a busy event loop, the exporter starting): then two samples arrive in one
 * chunk, and time alone cannot part them. So a line that repeats what began the frame being received
 * starts a new frame too: with a `key` (the GPU list: its uuid, which appears once per sample), a line whose
 * key was already seen; without (the process list), a line equal to the frame's first line: a sample may
 * hold two equal lines (two vGPU rows on one GPU were published that way), but the same first line again
 * means the list started over. What that still gets wrong: a list whose first two lines are equal (one PID
 * on two MIG instances with the same memory on both) read while the reader lagged.
 *
 * Memory is bounded: a frame (and a line without its newline) larger than `maxBytes` is dropped and
 * counted as an overflow instead of growing.
 */

export interface Frame {
  /** The frame's lines, newline-terminated (a last line cut short by the end of a burst is kept as is). */
  readonly text: string;
  /** When its first and its last chunk arrived (ms, caller's clock). */
  readonly firstAt: number;
  readonly lastAt: number;
}

export class FrameAssembler {
  private partial = '';
  private lines: string[] = [];
  private bytes = 0;
  private firstAt = 0;
  private lastAt = Number.NEGATIVE_INFINITY;
  private done: Frame | undefined;
  private keys = new Set<string>();
  private first: string | undefined;
  /** Frames dropped for being larger than maxBytes. */
  overflows = 0;

  constructor(
    private readonly gapMs: number,
    private readonly maxBytes: number,
    private readonly key?: (line: string) => string,
  ) {}

  push(chunk: string, now: number): void {
    if (now - this.lastAt > this.gapMs) this.finish();
    if (this.lines.length === 0 && this.partial === '') this.firstAt = now;
    this.lastAt = now;
    const text = this.partial + chunk;
    const end = text.lastIndexOf('\n');
    this.partial = end < 0 ? text : text.slice(end + 1);
    let from = 0;
    while (from <= end) {
      const nl = text.indexOf('\n', from);
      const line = text.slice(from, nl + 1);
      from = nl + 1;
      const k = this.key?.(line);
      if (k !== undefined ? this.keys.has(k) : line === this.first) {
        this.finish();
        this.firstAt = now;
      }
      if (k !== undefined) this.keys.add(k);
      this.first ??= line;
      this.bytes += line.length;
      this.lines.push(line);
    }
    if (this.bytes + this.partial.length > this.maxBytes) {
      this.overflows++;
      this.reset();
    }
  }

  /** The output ended (the process exited): what was pending is a frame now. */
  end(): void {
    this.finish();
  }

  /**
   * The newest complete frame at `now`: the one being received once it has been quiet for `settleMs`
   * (a sample's burst is over), else the one before it.
   */
  latest(now: number, settleMs: number): Frame | undefined {
    if (now - this.lastAt >= settleMs) this.finish();
    return this.done;
  }

  /** Lines of a sample are still coming in (not yet handed out by latest()). */
  get receiving(): boolean {
    return this.lines.length > 0 || this.partial !== '';
  }

  private finish(): void {
    if (this.lines.length === 0 && this.partial === '') return;
    this.done = { text: this.lines.join('') + this.partial, firstAt: this.firstAt, lastAt: this.lastAt };
    this.reset();
  }

  private reset(): void {
    this.lines = [];
    this.partial = '';
    this.bytes = 0;
    this.keys = new Set();
    this.first = undefined;
  }
}
