/**
 * Runs the tasks of a dependency graph as soon as each is ready, a bounded number at a time. What
 * "ready" means is the caller's (a stack's ordering rules); this only starts, counts and stops. Pure
 * of vSphere and of the engine, so its rules are unit-tested with plain promises.
 */

export interface ScheduleOptions<T> {
  /** Tasks at once; at least one. */
  readonly concurrency: number;
  /** Once aborted, nothing new starts; tasks in flight finish (they observe the signal themselves). */
  readonly signal?: AbortSignal;
  /** Whether a pending task may start now. Asked again whenever a task ends. */
  readonly ready: (task: T) => boolean;
  /** Carries a task out. A rejection is a failure: nothing new starts after it, tasks in flight finish. */
  readonly run: (task: T) => Promise<void>;
}

export interface ScheduleOutcome {
  readonly failed: readonly { readonly key: string; readonly error: unknown }[];
  /** Keys still pending at the end: after a failure or an interruption, or because none became ready. */
  readonly notStarted: readonly string[];
  readonly interrupted: boolean;
}

/**
 * Runs `pending` (by key) until nothing more can start. A task leaves `pending` when it ends; a
 * running task may add new ones to it (work that only its result tells of), and they are scheduled
 * like the rest.
 */
export async function runScheduled<T>(pending: Map<string, T>, options: ScheduleOptions<T>): Promise<ScheduleOutcome> {
  const concurrency = Math.max(1, options.concurrency);
  const inFlight = new Map<string, Promise<void>>();
  const failed: { key: string; error: unknown }[] = [];
  for (;;) {
    if (failed.length === 0 && !options.signal?.aborted) {
      for (const [key, task] of pending) {
        if (inFlight.size >= concurrency) break;
        if (inFlight.has(key) || !options.ready(task)) continue;
        // Started at once (its synchronous part runs now), a synchronous throw counted as a failure.
        const running = (async () => options.run(task))()
          .catch((error: unknown) => void failed.push({ key, error }))
          .finally(() => {
            pending.delete(key);
            inFlight.delete(key);
          });
        inFlight.set(key, running);
      }
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  return { failed, notStarted: [...pending.keys()], interrupted: options.signal?.aborted === true };
}
