/**
 * Ctrl-C (SIGINT). Before and during the fit it exits at once with code 130:
 * nothing has been written (outputs are committed after the fit), and core's
 * fit yields to the event loop between blocks of rows, so the handler runs
 * within about 100 ms even mid-iteration. The fit's `AbortSignal` is aborted
 * first, for anything listening. While outputs are being committed it waits
 * for them (each is atomic) and exits afterwards; a second Ctrl-C exits at once.
 * @module
 */
import type { CliIo } from './io.js';

/** What Ctrl-C does now: exit at once, or (while outputs are committed) after them. */
export type InterruptMode = 'exit' | 'defer';

/** The SIGINT handler of one command. */
export class Interrupt {
  private readonly controller = new AbortController();
  private mode: InterruptMode = 'exit';
  private pending = false;
  private readonly handler = (): void => this.onSigint();
  /** Adds to the message, e.g. the iteration the fit had reached. */
  detail: () => string = () => '';

  constructor(
    private readonly io: CliIo,
    private readonly what: string,
  ) {
    process.on('SIGINT', this.handler);
  }

  /** Aborted by Ctrl-C. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether Ctrl-C was pressed. */
  get interrupted(): boolean {
    return this.controller.signal.aborted || this.pending;
  }

  /** Sets what Ctrl-C does from now on; leaving `defer` acts on a Ctrl-C that came meanwhile. */
  set(mode: InterruptMode): void {
    const was = this.mode;
    this.mode = mode;
    if (mode === 'exit' && was === 'defer' && this.pending) {
      this.io.stderr(`emlab: interrupted: ${this.what} stopped after its outputs were written\n`);
      process.exit(130);
    }
  }

  /** Removes the handler. */
  dispose(): void {
    process.off('SIGINT', this.handler);
  }

  private onSigint(): void {
    if (this.mode === 'defer' && !this.pending) {
      this.pending = true;
      this.io.stderr(`${this.io.isTty ? '\n' : ''}emlab: interrupted: finishing the outputs being written, then stopping (press Ctrl-C again to quit at once)\n`);
      return;
    }
    this.controller.abort();
    this.exitNow();
  }

  private exitNow(): never {
    const written = this.mode === 'defer' ? 'each output file is either the previous one or the new one' : 'nothing was written';
    this.io.stderr(`${this.io.isTty ? '\n' : ''}emlab: interrupted: ${this.what} stopped${this.detail()}; ${written}\n`);
    process.exit(130);
  }
}
