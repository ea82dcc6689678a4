/** What every command gets: where to write, how to colour, and the exit codes it may return. */
import type { Styles } from './terminal';

/** 0 ok; 1 a failure (vSphere, an apply); 2 bad usage or an invalid spec. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

export interface CliContext {
  out(text: string): void;
  err(text: string): void;
  /** Styles for stdout and for stderr: each coloured only when it is a terminal. */
  readonly styles: Styles;
  readonly errStyles: Styles;
}

/** True while a process of this machine runs with that pid (one we may not signal counts as running). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A word as a POSIX shell reads it back unchanged: bare when safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A vic command line that vic suggests (a remedy in a message), quoted so that it runs as written
 * when pasted into a shell: `vicCommand(['state', 'rm', '-f', file, address])`.
 */
export function vicCommand(args: readonly string[]): string {
  return ['vic', ...args.map(shellQuote)].join(' ');
}
