// A progress bar on stderr for long steps: redrawn in place on a terminal, one line
// per step (and per 25 %) otherwise, so that logs stay readable.

export class Progress {
  private last = -1;
  private label = '';
  private readonly start = Date.now();

  constructor(private readonly write: (s: string) => void, private readonly tty: boolean) {}

  step(label: string): void {
    this.finish();
    this.label = label;
    this.last = -1;
    if (!this.tty) this.write(`${label}…\n`);
    else this.update(0);
  }

  update(fraction: number, detail = ''): void {
    const f = Math.max(0, Math.min(1, fraction));
    if (this.tty) {
      const width = 28, full = Math.round(f * width);
      this.write(`\r${this.label.padEnd(24)} [${'█'.repeat(full)}${'·'.repeat(width - full)}] ${(100 * f).toFixed(0).padStart(3)}% ${detail}\x1b[K`);
      this.last = f;
      return;
    }
    const quarter = Math.floor(f * 4);
    if (quarter > this.last && quarter < 4 && quarter > 0) {
      this.write(`  ${25 * quarter}% ${detail}\n`);
      this.last = quarter;
    }
  }

  finish(): void {
    if (this.tty && this.label) this.write(`\r${this.label.padEnd(24)} done\x1b[K\n`);
    this.label = '';
  }

  get elapsedSeconds(): number {
    return (Date.now() - this.start) / 1000;
  }
}
