/** Small statistics the benchmarks share: medians, percentiles, ratios of measured numbers. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error(`percentile ${p} of no values: the benchmark measured nothing`);
  const sorted = [...values].sort((a, b) => a - b);
  // nearest-rank: the smallest value with at least p% of the values at or below it
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values: the benchmark measured nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `measured / baseline`, rounded; refuses a zero or missing baseline rather than printing Infinity. */
export function ratio(measured: number, baseline: number, digits = 2): number {
  if (!(baseline > 0) || !Number.isFinite(measured)) throw new Error(`cannot form a ratio of ${measured} over baseline ${baseline}`);
  return round(measured / baseline, digits);
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export async function timedMs<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
