/**
 * Ctrl-C (SIGINT): while a fit runs it aborts the fit through an
 * `AbortSignal` (core checks it between blocks of rows, so it lands within
 * about 100 ms); before the fit (reading, preparing) it exits at once, since
 * nothing has been written; while outputs are being committed it waits for
 * them (each is atomic) and exits afterwards. A second Ctrl-C exits at once.
 * @module
 */
import type { CliIo } from './io.js';

/** What Ctrl-C does now. */
export type InterruptMode = 'exit' | 'abort' | 'defer';

/** The SIGINT handler of one command. */
export class Interrupt {
  private readonly controller = new AbortController();
  private mode: InterruptMode = 'exit';
  private pending = false;
  private readonly handler = (): void => this.onSigint();

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
    this.mode = mode;
    if (mode !== 'defer' && this.pending) this.exitNow();
  }

  /** Removes the handler. */
  dispose(): void {
    process.off('SIGINT', this.handler);
  }

  private onSigint(): void {
    const first = !this.interrupted;
    if (!first || this.mode === 'exit') this.exitNow();
    if (this.mode === 'defer') {
      this.pending = true;
      this.io.stderr(`${this.io.isTty ? '\n' : ''}emlab: interrupted: finishing the outputs being written, then stopping\n`);
      return;
    }
    this.io.stderr(`${this.io.isTty ? '\n' : ''}emlab: interrupted: stopping ${this.what} (press Ctrl-C again to quit at once)\n`);
    this.controller.abort();
  }

  private exitNow(): never {
    const written = this.mode === 'defer' ? 'outputs may be incomplete (each file is either the previous one or the new one)' : 'nothing was written';
    this.io.stderr(`${this.io.isTty ? '\n' : ''}emlab: interrupted: ${this.what} stopped; ${written}\n`);
    process.exit(130);
  }
}
