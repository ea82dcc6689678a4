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
import { badRequest } from './protocol';

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
  /** Told after each batch vSphere took. */
  readonly sent?: () => void;
  /** The end of the client's input closes the process's stdin. */
  readonly closeOnEnd: boolean;
  /** Tells the client why its input goes nowhere (its stderr); `quiet` errors are a process that ended. */
  readonly refused: (err: unknown) => void;
  /**
   * On a terminal, the keys that detach the client (dockerd's escape sequence, Ctrl-P Ctrl-Q by
   * default): what came before them goes on, they and what follows do not, and `detached` is told.
   */
  readonly detach?: { readonly keys: Buffer; readonly detached: () => void };
}

/**
 * docker's --detach-keys (`ctrl-p,ctrl-q`, `ctrl-a,x`): the bytes; a 400-worthy message for a bad one.
 * Ctrl-<letter> and Ctrl-@, [, \, ], ^, _ are the control bytes a terminal sends for them.
 */
export function parseDetachKeys(text: string): Buffer | string {
  const bytes: number[] = [];
  for (const key of text.split(',')) {
    const ctrl = /^ctrl-(.)$/i.exec(key.trim());
    if (ctrl) {
      const c = ctrl[1].toLowerCase();
      const code = c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : '@[\\]^_'.indexOf(c);
      if (code < 0) return `--detach-keys ${text}: ${key} is no control key; use ctrl-<a-z>, ctrl-@, ctrl-[, ctrl-\\, ctrl-], ctrl-^ or ctrl-_`;
      bytes.push(c >= 'a' && c <= 'z' ? code : code === 0 ? 0 : 26 + code);
    } else if (key.length === 1) bytes.push(key.charCodeAt(0));
    else return `--detach-keys ${text}: ${key} is neither one character nor ctrl-<key> (e.g. ctrl-p,ctrl-q)`;
  }
  return Buffer.from(bytes);
}

/** docker's default escape sequence, Ctrl-P Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]);

/** The detach keys a request names, else docker's default; a bad one is a 400 naming the form. */
export function detachKeysOf(text: string | null | undefined): Buffer {
  if (!text) return DEFAULT_DETACH_KEYS;
  const keys = parseDetachKeys(text);
  if (typeof keys === 'string') throw badRequest(keys);
  return keys;
}

export class AttachedInput {
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private endSent = false;
  private ready = false;
  private stopped = false;
  private pumping = false;
  /** How much of the detach keys the input ended with so far (held back until it is known). */
  private matched = 0;

  constructor(private readonly o: AttachedInputOptions) {
    o.socket.on('data', (chunk: Buffer) => this.take(chunk));
    o.socket.on('end', () => this.end());
    // A client gone without a half-close (killed, its connection dropped) ended its input too.
    o.socket.on('close', () => this.end());
    // A client that closed after its input still has it delivered: what came before its close is its input.
    o.socket.resume();
    void o.ready.then((ok) => {
      if (!ok) return this.stop();
      this.ready = true;
      void this.pump();
    });
  }

  private take(chunk: Buffer): void {
    if (this.stopped) return;
    const detach = this.o.detach;
    if (detach) {
      const keys = detach.keys;
      // Bytes held back as a possible start of the keys go on once they turn out not to be.
      let data = Buffer.concat([keys.subarray(0, this.matched), chunk]);
      let at = 0;
      let matched = 0;
      for (; at < data.length; at++) {
        matched = data[at] === keys[matched] ? matched + 1 : data[at] === keys[0] ? 1 : 0;
        if (matched === keys.length) {
          data = data.subarray(0, at + 1 - keys.length);
          this.held.push(data);
          this.heldBytes += data.length;
          this.matched = 0;
          // No more input from this client: it leaves, the process runs on, its input open.
          this.endSent = true;
          this.o.socket.removeAllListeners('data');
          this.o.socket.resume();
          void this.pump();
          detach.detached();
          return;
        }
      }
      this.matched = matched;
      chunk = data.subarray(0, data.length - matched);
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= HELD_BYTES) this.o.socket.pause();
    void this.pump();
  }

  private end(): void {
    if (this.ended) return;
    // A possible start of the detach keys held back is input after all.
    if (this.matched > 0 && this.o.detach) {
      this.held.push(this.o.detach.keys.subarray(0, this.matched));
      this.heldBytes += this.matched;
    }
    this.matched = 0;
    this.ended = true;
    void this.pump();
  }

  /** No more input goes: what comes is read and dropped, so the output keeps flowing (also once the process ended). */
  stop(): void {
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
        this.o.sent?.();
      }
    } catch (err) {
      this.stop();
      this.o.refused(err);
    } finally {
      this.pumping = false;
    }
  }
}
