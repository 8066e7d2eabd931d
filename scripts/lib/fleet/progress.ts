/**
 * A one-line progress bar for a terminal; on anything else (a CI log, a pipe) it prints a plain line per phase so
 * logs stay readable.
 */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #interactive: boolean;
  #label = "";
  #total = 0;
  #done = 0;
  #lastDraw = 0;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#interactive = stream.isTTY === true && process.env.CI === undefined;
  }

  /** Starts a phase of `total` steps. */
  start(label: string, total: number): void {
    this.#finishLine();
    this.#label = label;
    this.#total = Math.max(total, 1);
    this.#done = 0;
    if (this.#interactive) this.#draw(true);
    else this.#stream.write(`${label} (${total})\n`);
  }

  /** Adds `steps` done steps to the current phase. */
  tick(steps = 1): void {
    this.#done = Math.min(this.#total, this.#done + steps);
    if (this.#interactive) this.#draw(this.#done === this.#total);
  }

  /** Ends the current line, leaving the finished bar on screen. */
  stop(): void {
    this.#finishLine();
  }

  #draw(force: boolean): void {
    const now = Date.now();
    // Redrawing more than ~20 times a second costs more than it shows.
    if (!force && now - this.#lastDraw < 50) return;
    this.#lastDraw = now;
    const width = 28;
    const filled = Math.round((this.#done / this.#total) * width);
    const percent = Math.floor((this.#done / this.#total) * 100);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    this.#stream.write(`\r${this.#label.padEnd(30)} ${bar} ${String(percent).padStart(3)}% ${this.#done}/${this.#total}`);
  }

  #finishLine(): void {
    if (this.#interactive && this.#label !== "") this.#stream.write("\n");
    this.#label = "";
  }
}
