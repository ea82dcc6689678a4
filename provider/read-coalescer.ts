/**
 * Terraform sends one ReadResource per instance, up to -parallelism at a time. The engine refreshes
 * many objects in one property-collector round trip, so reads that arrive together are gathered and
 * sent as ONE batched `engine.read([...])`.
 *
 * The window is the current turn of the event loop (the reads that one chunk of HTTP/2 frames
 * carried): no read waits on a timer. Reads that arrive later need no window of their own,
 * because the engine's refresh snapshot serves them (a read that arrives while the snapshot is being
 * taken joins it). A timed window cost every read its length, times the reads over the parallelism:
 * a large share of a large plan.
 */
import type { ReadRequest } from '../src/engine';
import type { Attrs } from '../src/resources';

interface Pending {
  readonly request: ReadRequest;
  readonly resolve: (state: Attrs | null) => void;
  readonly reject: (err: unknown) => void;
}

export class ReadCoalescer {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly readBatch: (requests: readonly ReadRequest[]) => Promise<readonly (Attrs | null)[]>,
    private readonly onBatch?: (size: number) => void,
  ) {}

  read(request: ReadRequest): Promise<Attrs | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    this.onBatch?.(batch.length);
    try {
      const results = await this.readBatch(batch.map((p) => p.request));
      if (results.length !== batch.length) throw new Error(`batched read returned ${results.length} states for ${batch.length} requests`);
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
