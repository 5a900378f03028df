/**
 * Where the command line writes; injectable for tests.
 * @module
 */

/** Where the CLI writes. @category CLI */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress redraws in place). */
  readonly isTty: boolean;
}
