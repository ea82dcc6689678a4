/** The DAG scheduler alone: GIVEN tasks with dependencies WHEN run THEN order, bound and stops hold. */
import { runScheduled } from '../../../src/engine/scheduler';

interface Task {
  readonly key: string;
  readonly after: readonly string[];
  readonly fails?: boolean;
  readonly adds?: Task;
}

const task = (key: string, after: string[] = [], extra: Partial<Task> = {}): Task => ({ key, after, ...extra });

/** Runs the tasks; each takes a few event-loop turns, so several overlap when the bound allows. */
async function schedule(tasks: Task[], options: { concurrency?: number; signal?: AbortSignal; onStart?: (key: string) => void } = {}) {
  const pending = new Map(tasks.map((t) => [t.key, t]));
  const started: string[] = [];
  const finished: string[] = [];
  let running = 0;
  let most = 0;
  const outcome = await runScheduled(pending, {
    concurrency: options.concurrency ?? 4,
    signal: options.signal,
    ready: (t) => !t.after.some((k) => pending.has(k)),
    run: async (t) => {
      started.push(t.key);
      options.onStart?.(t.key);
      running += 1;
      most = Math.max(most, running);
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      if (t.adds) pending.set(t.adds.key, t.adds);
      if (t.fails) throw new Error(`${t.key} broke`);
      finished.push(t.key);
    },
  });
  return { outcome, started, finished, most };
}

describe('runScheduled', () => {
  it('GIVEN a chain and a fan-out WHEN run THEN every task starts only after the tasks it waits for finished', async () => {
    const { outcome, started, finished } = await schedule([task('vm', ['image']), task('image', ['vch']), task('vch'), task('other-vm', ['image'])]);
    expect(outcome).toEqual({ failed: [], notStarted: [], interrupted: false });
    expect(started.indexOf('vch')).toBeLessThan(started.indexOf('image'));
    expect(finished.indexOf('image')).toBeLessThan(started.indexOf('vm'));
    expect(finished.indexOf('image')).toBeLessThan(started.indexOf('other-vm'));
    expect(finished.sort()).toEqual(['image', 'other-vm', 'vch', 'vm']);
  });

  it.each([1, 3])('GIVEN 10 independent tasks and a bound of %i WHEN run THEN never more at once, and as many as allowed', async (concurrency) => {
    const { most, finished } = await schedule(
      Array.from({ length: 10 }, (_, i) => task(`t${i}`)),
      { concurrency },
    );
    expect(most).toBe(concurrency);
    expect(finished).toHaveLength(10);
  });

  it('GIVEN a task that fails WHEN run THEN nothing new starts, the task in flight finishes, and the rest is reported as not started', async () => {
    const { outcome, started, finished } = await schedule([task('a', [], { fails: true }), task('b'), task('c', ['a']), task('d', ['b'])], { concurrency: 2 });
    expect(outcome.failed.map((f) => [f.key, (f.error as Error).message])).toEqual([['a', 'a broke']]);
    expect(started).toEqual(['a', 'b']);
    expect(finished).toEqual(['b']);
    expect([...outcome.notStarted].sort()).toEqual(['c', 'd']);
    expect(outcome.interrupted).toBe(false);
  });

  it('GIVEN a task whose run throws synchronously WHEN run THEN it counts as a failure, not a crash of the scheduler', async () => {
    const pending = new Map([['x', task('x')]]);
    const outcome = await runScheduled(pending, {
      concurrency: 1,
      ready: () => true,
      run: () => {
        throw new Error('sync');
      },
    });
    expect(outcome.failed.map((f) => f.key)).toEqual(['x']);
    expect(outcome.notStarted).toEqual([]);
  });

  it('GIVEN a running task that adds work WHEN it ends THEN the added task runs too, after what it waits for', async () => {
    const { finished, outcome } = await schedule([task('new-image', [], { adds: task('old-image', ['vm']) }), task('vm', ['new-image'])]);
    expect(outcome.notStarted).toEqual([]);
    expect(finished).toEqual(['new-image', 'vm', 'old-image']);
  });

  it('GIVEN tasks that wait for each other WHEN run THEN none starts and both are reported, without a failure', async () => {
    const { outcome, started } = await schedule([task('x', ['y']), task('y', ['x']), task('z')]);
    expect(started).toEqual(['z']);
    expect(outcome).toEqual({ failed: [], notStarted: ['x', 'y'], interrupted: false });
  });

  it('GIVEN an abort while tasks run WHEN it comes THEN the ones in flight finish, no other starts, and the outcome says interrupted', async () => {
    const stop = new AbortController();
    const { outcome, finished } = await schedule([task('a'), task('b', ['a']), task('c', ['b'])], {
      signal: stop.signal,
      onStart: (key) => key === 'a' && stop.abort(),
    });
    expect(finished).toEqual(['a']);
    expect(outcome).toEqual({ failed: [], notStarted: ['b', 'c'], interrupted: true });
  });
});
