/**
 * Terraform sends one ReadResource per instance, up to -parallelism at a time. The engine refreshes
 * many objects in one property-collector round trip, so reads that arrive within a short window are
 * gathered and sent as ONE batched `engine.read([...])`.
 */
import type { ReadRequest } from '../src/engine/types';
import type { Attrs } from '../src/resources';

interface Pending {
  readonly request: ReadRequest;
  readonly resolve: (state: Attrs | null) => void;
  readonly reject: (err: unknown) => void;
}

export class ReadCoalescer {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly readBatch: (requests: readonly ReadRequest[]) => Promise<readonly (Attrs | null)[]>,
    private readonly windowMs = 5,
    private readonly onBatch?: (size: number) => void,
  ) {}

  read(request: ReadRequest): Promise<Attrs | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      this.timer ??= setTimeout(() => void this.flush(), this.windowMs);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.timer = undefined;
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
