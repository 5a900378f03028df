/**
 * Progress on stderr for long runs: a line per phase (reading, preparing,
 * initializing, ...) once the run is big or has taken more than a second, and
 * a line per iteration for fits longer than a second (redrawn in place on a
 * terminal, at most one per second otherwise).
 * @module
 */
import type { FitProgress, IterationInfo, IterationRecord } from '@emlab/core';
import { sig } from './format.js';
import type { CliIo } from './io.js';

/** Cells (rows × columns) from which phase lines are shown at once. */
export const BIG_DATA_CELLS = 1 << 20;

/** Bytes of input from which the reading line is shown at once. */
export const BIG_FILE_BYTES = 16 << 20;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The progress printer of one command. */
export class Progress {
  private readonly started = performance.now();
  private fitStarted = Number.POSITIVE_INFINITY;
  private lastIteration = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private big = false;
  private nInit = 1;
  /** Where the fit is (for the message of an interrupted fit), or '' before the first iteration. */
  reached = '';

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly valueName = 'bound',
    private readonly format: (x: number) => string = (x) => sig(x, 12),
  ) {}

  /** Phase lines are shown from now on regardless of the elapsed time. */
  markBig(): void {
    this.big = true;
  }

  /** A phase line (shown when the run is big or older than a second). */
  note(text: string, force = false): void {
    if (!force && !this.big && performance.now() - this.started < 1000) return;
    this.write(`${this.label}: ${text}`);
  }

  /** A phase line of the fit (shown when the run is big or the fit older than a second: start-up time does not count). */
  private fitNote(text: string): void {
    if (!this.big && performance.now() - this.fitStarted < 1000) return;
    this.write(`${this.label}: ${text}`);
  }

  /** For `fit`'s `onProgress`. */
  readonly onProgress = (p: FitProgress): void => {
    switch (p.phase) {
      case 'preparing':
        this.fitStarted = performance.now();
        this.fitNote('preparing the data');
        break;
      case 'initializing':
        this.fitNote(`initializing restart ${(p.restart ?? 0) + 1}/${this.nInit}`);
        break;
      case 'iterating':
        this.fitNote(`iterating (restart ${(p.restart ?? 0) + 1}/${this.nInit}; initialized in ${seconds(p.ms ?? 0)})`);
        break;
      case 'finishing':
        this.fitNote('computing the final log-likelihood');
        break;
    }
  };

  /** For `fit`'s `onIteration`. */
  readonly onIteration = (r: IterationRecord, info: Pick<IterationInfo, 'restart' | 'nInit' | 'maxIter'>): void => {
    this.nInit = info.nInit;
    this.reached = `restart ${info.restart + 1}/${info.nInit}, iteration ${r.iteration}`;
    const now = performance.now();
    if (now - this.fitStarted < 1000 || now - this.lastIteration < (this.io.isTty ? 100 : 1000)) return;
    this.lastIteration = now;
    this.write(`${this.label}: restart ${info.restart + 1}/${info.nInit}, iteration ${r.iteration}/${info.maxIter}, ${this.valueName} ${this.format(r.boundAfterM)} (${r.precision})`);
  };

  /** Tells the printer how many restarts there are (for phase lines before the first iteration). */
  restarts(n: number): void {
    this.nInit = n;
  }

  /** Clears a line drawn in place (before the command's own output). */
  clear(): void {
    if (this.drawn) this.io.stderr('\r\u001b[K');
    this.drawn = false;
  }

  private write(line: string): void {
    if (this.io.isTty) {
      this.io.stderr(`\r${line}\u001b[K`);
      this.drawn = true;
    } else {
      this.io.stderr(`${line}\n`);
    }
  }
}
