// The progress bar of a long transfer on a terminal (stderr): bytes done of the total, rate, ETA.

export class Progress {
  private readonly started = Date.now();
  private last = 0;
  constructor(private readonly label: string, private readonly enabled: boolean) {}
  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100 && done < total) return;
    this.last = now;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && total > done ? Math.ceil((total - done) / rate) : 0;
    const width = 30;
    const filled = total > 0 ? Math.round((width * done) / total) : width;
    process.stderr.write(`\r${this.label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total} B ${(rate / 1024).toFixed(1)} KiB/s ETA ${eta}s `);
  }
  end(): void {
    if (this.enabled) process.stderr.write("\n");
  }
}
