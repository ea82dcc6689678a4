/**
 * Bounded exponential backoff for transient failures only.
 *
 * A fault from vSphere (InvalidArgument, DuplicateName, ...) is an answer, not an accident:
 * retrying it would only repeat it, or worse, repeat a side effect. Only `TransientError`
 * (HTTP 502/503/504, a reset or dropped connection, a timeout) is tried again.
 */
import { isTransient } from './errors';

export interface RetryPolicy {
  /** Total attempts, the first included (1 = never retry). */
  readonly attempts: number;
  /** Delay before the second attempt. */
  readonly initialDelayMs: number;
  /** Upper bound of any single delay. */
  readonly maxDelayMs: number;
  /** Growth of the delay per attempt. */
  readonly factor: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, initialDelayMs: 250, maxDelayMs: 4000, factor: 2 };

/** The delay before attempt `attempt + 1` (attempt counts from 1), with ±20% jitter so clients do not stampede. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error, or the policy's attempts are
 * spent. Once `signal` aborts, no further attempt is made: the last failure is thrown at once.
 */
export async function retryTransient<T>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
  onRetry?: (err: unknown, attemptNumber: number, delayMs: number) => void,
  signal?: AbortSignal,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isTransient(err) || n >= policy.attempts || signal?.aborted) throw err;
      const delayMs = backoffDelayMs(policy, n);
      onRetry?.(err, n, delayMs);
      if (!(await sleepUnlessAborted(delayMs, signal))) throw err;
    }
  }
}

/** Sleeps `ms`; false when `signal` aborted first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
