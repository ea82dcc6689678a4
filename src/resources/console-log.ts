/**
 * The container's output in a container VM's console file. The tether frames what the process
 * writes as `vic-stdout <RFC 3339 time> <text>` (a plain line) or `vic-stdout64 <time> <base64>`
 * (exact bytes), and the same for stderr (docs/guest-config.md, "Console protocol"); everything
 * else in the file is the kernel's or the tether's own, and is not the container's output.
 */
import { StringDecoder } from 'node:string_decoder';

export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  /** When the tether read the line, RFC 3339 with nanoseconds, UTC (the guest's clock). */
  readonly time: string;
  /** The bytes the process wrote, exactly: a plain frame's text with its newline, an exact frame's bytes. */
  readonly data: Buffer;
  /** The same as text, without its final newline: for reading, not for passing on. */
  readonly text: string;
}

/** The console file's name in the VM's directory (the serial port the container_vm resource adds). */
export const CONSOLE_FILE = 'console.log';

/**
 * `vic-stdout <time> <text>`: a line of plain text, its newline left out; `vic-stdout64 <time>
 * <base64>`: bytes as they were (a carriage return, control bytes, invalid UTF-8, a line cut at
 * 16 KiB, a last line without a newline), nothing added. Tethers before the exact frames wrote
 * every line plain.
 */
const FRAME = /^vic-(stdout|stderr)(64)? (\S+) ?(.*)$/;

/** One console line as container output, or undefined when it is not a frame. */
export function parseOutputLine(line: string): OutputLine | undefined {
  const m = FRAME.exec(line.replace(/\r$/, ''));
  return m ? frameLine(m[1] as OutputLine['stream'], m[2] !== undefined, m[3], m[4]) : undefined;
}

/** A frame's parts as an output line: a plain frame's text gets its newline back, an exact one is decoded. */
function frameLine(stream: OutputLine['stream'], exact: boolean, time: string, body: string): OutputLine {
  const data = exact ? Buffer.from(body, 'base64') : Buffer.from(`${body}\n`, 'utf8');
  const text = exact ? data.toString('utf8').replace(/\r?\n$/, '') : body;
  return { stream, time, data, text };
}

/**
 * An exec's lines (docker exec: a process run beside the container's own): `vic-exec-<id>-stdout`
 * and `-stderr` frames as the container's, and `vic-exec-<id>-exit <time> <code>` once it ended.
 * The container's own readers (docker logs) leave them out.
 */
const EXEC_FRAME = /^vic-exec-([0-9a-f]+)-(stdout|stderr|exit)(64)? (\S+) ?(.*)$/;

/**
 * Splits console bytes into output lines as they arrive (ranged reads of a growing file): a line
 * cut by the end of a chunk waits for the rest, and so does a character cut between two reads.
 * The container's output, or with `exec` that exec's (its exit code, once seen, in `exitCode`).
 */
export class OutputLineReader {
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  /** The exec's exit code, once its end is among the lines read. */
  exitCode: number | undefined;

  constructor(private readonly exec?: string) {}

  /** The complete output lines in this chunk. */
  push(chunk: Buffer | string): OutputLine[] {
    const lines = (this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.map((l) => this.parse(l)).filter((l): l is OutputLine => l !== undefined);
  }

  /** What is left once the file is complete (a frame always ends with a newline, so normally nothing). */
  end(): OutputLine[] {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    const line = rest ? this.parse(rest) : undefined;
    return line ? [line] : [];
  }

  private parse(line: string): OutputLine | undefined {
    if (this.exec === undefined) return parseOutputLine(line);
    const m = EXEC_FRAME.exec(line.replace(/\r$/, ''));
    if (!m || m[1] !== this.exec) return undefined;
    if (m[2] === 'exit') {
      this.exitCode = Number(m[5]);
      return undefined;
    }
    return frameLine(m[2] as OutputLine['stream'], m[3] !== undefined, m[4], m[5]);
  }
}

/** The console file of a container VM, from its `.vmx` datastore path (`[ds] dir/name.vmx`). */
export function consoleLogPath(vmPath: string): { datastore: string; path: string } {
  const m = /^\[([^\]]+)\]\s*(.*)$/.exec(vmPath);
  if (!m) throw new Error(`"${vmPath}" is not a datastore path ([datastore] dir/file.vmx)`);
  const dir = m[2].includes('/') ? m[2].slice(0, m[2].lastIndexOf('/') + 1) : '';
  return { datastore: m[1], path: `${dir}${CONSOLE_FILE}` };
}
