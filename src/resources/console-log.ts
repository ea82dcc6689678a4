/**
 * The container's output in a container VM's console file. The tether frames every line the
 * process writes as `vic-stdout <RFC 3339 time> <text>` or `vic-stderr <time> <text>`
 * (docs/guest-config.md, "Console protocol"); everything else in the file is the kernel's or the
 * tether's own, and is not the container's output.
 */

export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  /** When the tether read the line, RFC 3339 with nanoseconds, UTC (the guest's clock). */
  readonly time: string;
  readonly text: string;
}

/** The console file's name in the VM's directory (the serial port the container_vm resource adds). */
export const CONSOLE_FILE = 'console.log';

const FRAME = /^vic-(stdout|stderr) (\S+) ?(.*)$/;

/** One console line as container output, or undefined when it is not a frame. */
export function parseOutputLine(line: string): OutputLine | undefined {
  const m = FRAME.exec(line.replace(/\r$/, ''));
  if (!m) return undefined;
  return { stream: m[1] as OutputLine['stream'], time: m[2], text: m[3] };
}

/**
 * Splits console bytes into output lines as they arrive (ranged reads of a growing file): a line
 * cut by the end of a chunk waits for the rest.
 */
export class OutputLineReader {
  private partial = '';

  /** The complete output lines in this chunk. */
  push(chunk: string): OutputLine[] {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map(parseOutputLine).filter((l): l is OutputLine => l !== undefined);
  }

  /** What is left once the file is complete (a frame always ends with a newline, so normally nothing). */
  end(): OutputLine[] {
    const rest = this.partial;
    this.partial = '';
    const line = rest ? parseOutputLine(rest) : undefined;
    return line ? [line] : [];
  }
}

/** The console file of a container VM, from its `.vmx` datastore path (`[ds] dir/name.vmx`). */
export function consoleLogPath(vmPath: string): { datastore: string; path: string } {
  const m = /^\[([^\]]+)\]\s*(.*)$/.exec(vmPath);
  if (!m) throw new Error(`"${vmPath}" is not a datastore path ([datastore] dir/file.vmx)`);
  const dir = m[2].includes('/') ? m[2].slice(0, m[2].lastIndexOf('/') + 1) : '';
  return { datastore: m[1], path: `${dir}${CONSOLE_FILE}` };
}
