/** Small statistics the benchmarks share: medians, percentiles, ratios of measured numbers. */
import { readFileSync } from 'node:fs';

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

/** A median with the distribution-free interval around it (`medianInterval`). */
export interface MedianInterval {
  readonly median: number;
  /** The order statistics that hold the true median with probability `confidence` (binomial, no assumption on the spread). */
  readonly low: number;
  readonly high: number;
  /** The interval's actual coverage, 0–1: with few values it falls short of the one asked (5 values: 0.94 at best). */
  readonly confidence: number;
}

/**
 * The median of `values` and the narrowest interval of order statistics (the k-th smallest and the
 * k-th largest) that holds the population's median with probability at least `wanted`:
 * P = 1 − 2·P(Binomial(n, ½) ≤ k − 1). With too few values for `wanted`, the whole range and its
 * coverage (3 values: 0.75). Suited to plan times on a shared machine, whose spread is not normal.
 */
export function medianInterval(values: readonly number[], wanted = 0.95): MedianInterval {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const coverage = (k: number) => 1 - 2 * binomialAtMostHalf(n, k - 1);
  let k = 1;
  while (k + 1 <= Math.floor((n + 1) / 2) && coverage(k + 1) >= wanted) k++;
  return { median: median(sorted), low: sorted[k - 1], high: sorted[n - k], confidence: round(Math.max(0, coverage(k)), 3) };
}

/** P(X ≤ j) for X ~ Binomial(n, ½). */
function binomialAtMostHalf(n: number, j: number): number {
  let term = 0.5 ** n; // C(n, 0) / 2^n
  let sum = 0;
  for (let i = 0; i <= j; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
}

/**
 * CPU (user + system, ms) of this process's children that have ended and been waited for, and of
 * theirs (cutime + cstime of /proc/self/stat, in 10 ms ticks): read before and after a command run
 * alone, the difference is the whole command's CPU, Terraform's and its providers' together.
 */
export function endedChildrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime, cstime: fields 16 and 17 of stat(5), here 13 and 14 past the command name
  return (Number(f[13]) + Number(f[14])) * CLOCK_TICK_MS;
}

/** USER_HZ on Linux: /proc's times count hundredths of a second. */
export const CLOCK_TICK_MS = 10;

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
