/**
 * Progress of an image build, in bytes, for the front ends to render (a bar, a log line, a Pulumi
 * status). Events are throttled so a fast local copy does not flood the listener.
 */

export type ImagePhase = 'pull' | 'build' | 'upload';

export interface ImageProgress {
  readonly phase: ImagePhase;
  /** Bytes done in this phase so far. */
  readonly current: number;
  /** Bytes this phase will move: compressed layers (pull, build) or the disk files (upload). */
  readonly total: number;
  /** The manifest digest being built. */
  readonly digest: string;
  /** A short human line, e.g. "layer 2/5" or "mke2fs". */
  readonly detail?: string;
}

export type ProgressListener = (event: ImageProgress) => void;

const MIN_INTERVAL_MS = 100;

/** Counts bytes of one phase and reports at most every 100 ms, plus the first and last event. */
export class ProgressMeter {
  private current = 0;
  private lastEmit = 0;

  constructor(
    private readonly phase: ImagePhase,
    private readonly total: number,
    private readonly digest: string,
    private readonly listener: ProgressListener | undefined,
  ) {}

  start(detail?: string): void {
    this.emit(detail);
  }

  add(bytes: number, detail?: string): void {
    this.current += bytes;
    const now = Date.now();
    if (now - this.lastEmit >= MIN_INTERVAL_MS) this.emit(detail);
  }

  /** Reports the phase complete (current = total). */
  finish(detail?: string): void {
    this.current = this.total;
    this.emit(detail);
  }

  get bytes(): number {
    return this.current;
  }

  private emit(detail?: string): void {
    this.lastEmit = Date.now();
    if (!this.listener) return;
    try {
      this.listener({ phase: this.phase, current: this.current, total: this.total, digest: this.digest, ...(detail ? { detail } : {}) });
    } catch {
      // A broken renderer must not break the build.
    }
  }
}
