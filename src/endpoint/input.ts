/**
 * The input of one attach with stdin (`docker run -i`, `start -ai`, `attach`): what the client
 * writes on the hijacked connection goes to the container VM's process, in order, once its process
 * has reported that it runs (the engine's `input`: extraConfig chunks the hypervisor's side of the
 * tether passes on, docs/guest-config.md "Input from the hypervisor"). What comes meanwhile waits
 * here, and what comes while one batch travels goes with the next, so a fast writer costs a round
 * trip per batch, not per write. The client's half-close is the end of the input; it reaches the
 * process only for a container made to close its stdin then (`StdinOnce`: docker run -i), as
 * dockerd does, and never through a terminal, whose input a detached client leaves open.
 */
import type { Duplex } from 'node:stream';

/** Input held before the process takes it; the connection is paused beyond it (back-pressure). */
const HELD_BYTES = 4 * 1024 * 1024;
/** At most this much goes in one batch (one vSphere reconfigure). */
const BATCH_BYTES = 768 * 1024;

export interface AttachedInputOptions {
  readonly socket: Duplex;
  /** Resolves true once the process runs and reported so, false when it never will (ended, client gone). */
  readonly ready: Promise<boolean>;
  /** Passes a batch on (engine.input). */
  readonly send: (data: Buffer, eof: boolean) => Promise<void>;
  /** The end of the client's input closes the process's stdin. */
  readonly closeOnEnd: boolean;
  /** Tells the client why its input goes nowhere (its stderr); `quiet` errors are a process that ended. */
  readonly refused: (err: unknown) => void;
}

export class AttachedInput {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private endSent = false;
  private ready = false;
  private stopped = false;
  private pumping = false;

  constructor(private readonly o: AttachedInputOptions) {
    o.socket.on('data', (chunk: Buffer) => this.take(chunk));
    o.socket.on('end', () => {
      this.ended = true;
      void this.pump();
    });
    o.socket.on('close', () => (this.stopped = true));
    o.socket.resume();
    void o.ready.then((ok) => {
      if (!ok) return this.stop();
      this.ready = true;
      void this.pump();
    });
  }

  private take(chunk: Buffer): void {
    if (this.stopped) return;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= HELD_BYTES) this.o.socket.pause();
    void this.pump();
  }

  /** No more input goes: what comes is read and dropped, so the output keeps flowing. */
  private stop(): void {
    this.stopped = true;
    this.held.length = 0;
    this.heldBytes = 0;
    this.o.socket.resume();
  }

  private async pump(): Promise<void> {
    if (this.pumping || !this.ready) return;
    this.pumping = true;
    try {
      while (!this.stopped) {
        const batch: Buffer[] = [];
        let size = 0;
        while (this.held.length > 0 && size < BATCH_BYTES) {
          const next = this.held.shift() as Buffer;
          const room = BATCH_BYTES - size;
          if (next.length > room) this.held.unshift(next.subarray(room));
          const part = next.subarray(0, room);
          batch.push(part);
          size += part.length;
        }
        this.heldBytes -= size;
        const eof = this.ended && this.held.length === 0 && this.o.closeOnEnd && !this.endSent;
        if (size === 0 && !eof) break;
        if (this.heldBytes < HELD_BYTES) this.o.socket.resume();
        await this.o.send(Buffer.concat(batch, size), eof);
        if (eof) this.endSent = true;
      }
    } catch (err) {
      this.stop();
      this.o.refused(err);
    } finally {
      this.pumping = false;
    }
  }
}
