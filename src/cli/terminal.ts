/**
 * What the terminal can take: colour only on a TTY and never with NO_COLOR (https://no-color.org)
 * or TERM=dumb; FORCE_COLOR turns it on for tools that capture output but render ANSI.
 */
export interface Styles {
  readonly enabled: boolean;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

function sgr(open: number, close: number, enabled: boolean): (s: string) => string {
  return enabled ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s;
}

export function stylesFor(enabled: boolean): Styles {
  return {
    enabled,
    green: sgr(32, 39, enabled),
    yellow: sgr(33, 39, enabled),
    red: sgr(31, 39, enabled),
    cyan: sgr(36, 39, enabled),
    bold: sgr(1, 22, enabled),
    dim: sgr(2, 22, enabled),
  };
}

/** Removes ANSI colour codes, to measure or compare what was printed. */
export function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
