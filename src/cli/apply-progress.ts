/**
 * What an apply shows while it runs. Each resource gets a line when it starts and when it ends
 * (`container_vm.web: Creating...`, `...: Creation complete after 1.2s [id=…]`), Terraform style.
 * On a terminal, progress bars on stderr follow the resources done and the bytes of image pulls,
 * builds and uploads; elsewhere (CI logs, pipes) each phase is one plain line instead, with its
 * note (where it goes, why it falls back), one more line for each note a phase starts over with, and
 * every 10 s a "Still creating... [20s elapsed]" line per resource at work, as Terraform prints.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Action, ProgressEvent } from '../engine';
import type { Styles } from './terminal';

const VERBS: Record<Exclude<Action, 'no-op'>, [string, string, string]> = {
  create: ['Creating...', 'Creation complete', 'Still creating...'],
  update: ['Modifying...', 'Modifications complete', 'Still modifying...'],
  replace: ['Replacing...', 'Replacement complete', 'Still replacing...'],
  delete: ['Destroying...', 'Destruction complete', 'Still destroying...'],
};

/** How often plain output says that a resource is still at work, as Terraform does. */
const STILL_EVERY_MS = 10_000;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export interface ApplyReporterOptions {
  /** Where result lines go (stdout). */
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where bars go (stderr). */
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly styles: Styles;
  /** Bars only when stderr is a terminal; tests and CI get plain lines. */
  readonly bars: boolean;
  /** The number of changes the apply will make (the overall bar's total). */
  readonly total: number;
  /** How often plain output repeats a line for each resource still at work; 10 s unless said. */
  readonly stillEveryMs?: number;
}

export class ApplyReporter {
  private readonly multibar?: MultiBar;
  private readonly overall?: SingleBar;
  private readonly started = new Map<string, number>();
  private readonly phaseBars = new Map<string, SingleBar>();
  /** Phases already announced per resource, so plain output says each once. */
  private readonly phasesShown = new Map<string, Set<string>>();
  /** The last note printed per resource and phase, in plain output. */
  private readonly notesShown = new Map<string, string>();
  private done = 0;
  /** Plain output: the resources at work (their action) and where each last was, for the "Still" lines. */
  private readonly working = new Map<string, Exclude<Action, 'no-op'>>();
  private readonly lastProgress = new Map<string, string>();
  private readonly stillTimer?: NodeJS.Timeout;

  constructor(private readonly options: ApplyReporterOptions) {
    if (!options.bars) {
      // A log with no line for minutes (a large upload, a slow vSphere task) looks hung.
      this.stillTimer = setInterval(() => this.still(), options.stillEveryMs ?? STILL_EVERY_MS);
      this.stillTimer.unref();
    }
    if (options.bars) {
      this.multibar = new MultiBar(
        {
          stream: options.err as NodeJS.WriteStream,
          format: ' {label} [{bar}] {percentage}% {detail}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          autopadding: true,
          forceRedraw: true,
          emptyOnZero: true,
        },
        Presets.shades_classic,
      );
      if (options.total > 1) this.overall = this.multibar.create(options.total, 0, { label: 'apply'.padEnd(28), detail: `0/${options.total} resources` });
    }
  }

  private line(text: string): void {
    // With bars on the same terminal, lines go above the bars so the two never interleave.
    if (this.multibar && this.options.out.isTTY) this.multibar.log(`${text}\n`);
    else this.options.out.write(`${text}\n`);
  }

  private still(): void {
    for (const [address, action] of this.working) {
      const seconds = Math.round((Date.now() - (this.started.get(address) ?? Date.now())) / 1000);
      const where = this.lastProgress.get(address);
      this.line(`${this.options.styles.bold(address)}: ${VERBS[action][2]} [${seconds}s elapsed]${where ? ` (${where})` : ''}`);
    }
  }

  start(address: string, action: Action): void {
    if (action === 'no-op') return;
    this.started.set(address, Date.now());
    this.working.set(address, action);
    this.line(`${this.options.styles.bold(address)}: ${VERBS[action][0]}`);
  }

  finish(address: string, action: Action, id?: string): void {
    if (action === 'no-op') return;
    const seconds = ((Date.now() - (this.started.get(address) ?? Date.now())) / 1000).toFixed(1);
    this.working.delete(address);
    this.line(`${this.options.styles.bold(address)}: ${VERBS[action][1]} after ${seconds}s${id ? ` [id=${id}]` : ''}`);
    this.advance();
    this.closePhase(address);
  }

  failed(address: string, message: string): void {
    this.working.delete(address);
    // The first line of the message that says something: none, and the line ends at "failed".
    const first =
      message
        .split('\n')
        .find((l) => l.trim() !== '')
        ?.trim() ?? '';
    this.line(`${this.options.styles.bold(address)}: ${this.options.styles.red('failed')}${first ? `: ${first}` : ''}`);
    this.advance();
    this.closePhase(address);
  }

  private advance(): void {
    this.done++;
    this.overall?.update(this.done, { detail: `${this.done}/${this.options.total} resources` });
  }

  /** Byte-counted phases (image pull, build, upload) get a bar; others a line when they begin. */
  progress(address: string, e: ProgressEvent): void {
    const counted = e.total !== undefined && e.total > 0 && ['pull', 'build', 'upload'].includes(e.phase);
    this.lastProgress.set(
      address,
      counted ? `${e.phase} ${formatBytes(Math.min(e.current ?? 0, e.total as number))}/${formatBytes(e.total as number)}` : e.phase,
    );
    if (!counted) {
      if (!this.multibar && this.firstTime(address, e.phase)) this.line(`${address}: ${e.phase}${e.message ? ` (${e.message})` : ''}`);
      return;
    }
    const total = e.total as number;
    const current = Math.min(e.current ?? 0, total);
    const detail = `${formatBytes(current)}/${formatBytes(total)}${e.message ? ` ${e.message}` : ''}`;
    if (!this.multibar) {
      // Once per phase, and again when it starts over with a note (an upload that falls back to
      // another route says why): a bar would show the note, a log has only these lines.
      const restarted = current === 0 && e.message !== undefined && e.message !== this.notesShown.get(`${address} ${e.phase}`);
      if (this.firstTime(address, e.phase) || restarted) {
        if (e.message !== undefined) this.notesShown.set(`${address} ${e.phase}`, e.message);
        this.line(`${address}: ${e.phase} ${formatBytes(total)}${e.message ? ` (${e.message})` : ''}`);
      }
      return;
    }
    const key = `${address} ${e.phase}`;
    let bar = this.phaseBars.get(key);
    if (!bar) {
      bar = this.multibar.create(total, 0, { label: `${address} ${e.phase}`.slice(0, 28).padEnd(28), detail });
      this.phaseBars.set(key, bar);
    }
    bar.setTotal(total);
    bar.update(current, { detail });
  }

  private firstTime(address: string, phase: string): boolean {
    const shown = this.phasesShown.get(address) ?? new Set<string>();
    this.phasesShown.set(address, shown);
    if (shown.has(phase)) return false;
    shown.add(phase);
    return true;
  }

  private closePhase(address: string): void {
    for (const [key, bar] of this.phaseBars) {
      if (!key.startsWith(`${address} `)) continue;
      bar.update(bar.getTotal());
      this.multibar?.remove(bar);
      this.phaseBars.delete(key);
    }
  }

  stop(): void {
    if (this.stillTimer) clearInterval(this.stillTimer);
    if (!this.multibar) return;
    // Lines logged since the last redraw are only written by a redraw; stop() alone drops them.
    this.multibar.update();
    this.multibar.stop();
  }
}
