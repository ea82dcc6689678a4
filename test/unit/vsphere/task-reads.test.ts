import { taskReads } from '../../../src/vsphere/tasks';

describe('taskReads: when a task is read before a collector watches it', () => {
  test('GIVEN no task of the method has finished yet WHEN scheduled THEN the first read goes at once, then the rechecks', () => {
    expect(taskReads(undefined)).toEqual([0, 10, 20, 40]);
    expect(taskReads(undefined, 25)).toEqual([0, 10, 20, 40]);
  });

  test('GIVEN tasks of the method typically take 12 ms WHEN the method just answered THEN the first read comes 12 ms after the reply', () => {
    expect(taskReads(12)).toEqual([12, 10, 20, 40]);
    expect(taskReads(12.4)[0]).toBe(12);
  });

  test('GIVEN the reply came 5 ms ago WHEN scheduled THEN the time since the reply counts against the wait', () => {
    expect(taskReads(12, 5)[0]).toBe(7);
    // Past the typical time already: read at once, never a negative pause.
    expect(taskReads(12, 30)[0]).toBe(0);
    // A clock read before the reply (negative) counts as none.
    expect(taskReads(12, -3)[0]).toBe(12);
  });

  test('GIVEN a method that typically takes minutes WHEN scheduled THEN the first read waits at most a second; the collector watches the rest', () => {
    expect(taskReads(180_000)[0]).toBe(1000);
    expect(taskReads(180_000, 400)[0]).toBe(600);
  });
});
