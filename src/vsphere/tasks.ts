/**
 * vSphere tasks, awaited through the PropertyCollector, never by sleep-polling: the server answers
 * as soon as the state changes. A task that ends in `error` becomes a TaskFailedError carrying the
 * vSphere fault name.
 *
 * A task is read once first: one the server finished within its own call (every vcsim task, many
 * short vCenter ones) costs that single read. A task still running joins ONE waiter per client: a
 * private collector with one filter over a ListView, and one WaitForUpdatesEx loop for all tasks.
 * Tasks enter and leave the ListView (ModifyListView) rather than getting filters of their own:
 * vcsim 0.46.3 never frees a filter's change handler (every later change pays for it), and its
 * WaitForUpdatesEx re-collects every filter of a collector per change and per filter, so one
 * shared collector with a filter per task was measured at 5.3 s for 10 concurrent 500 ms tasks
 * (1.1 s with a collector each). With one filter over a view it costs no more than that.
 */
import { TaskFailedError, VimFault } from './errors';
import { UpdateCollector, type ObjectUpdate } from './property-collector';
import type { VimClient } from './session';
import { asArray, type ManagedObjectReference } from './xml';

export type TaskState = 'queued' | 'running' | 'success' | 'error';

/** The fields of vim25 TaskInfo this client reads. */
export interface TaskInfo {
  readonly task: ManagedObjectReference;
  readonly name?: string;
  readonly descriptionId?: string;
  readonly entity?: ManagedObjectReference;
  readonly entityName?: string;
  readonly state: TaskState;
  readonly progress?: number;
  readonly result?: unknown;
  readonly error?: { readonly fault?: { readonly $type?: string } & Record<string, unknown>; readonly localizedMessage?: string };
}

export interface TaskWaitOptions {
  /** Called with 0–100 whenever the task reports progress (and with 100 on success). */
  readonly onProgress?: (percent: number) => void;
  /** Give up after this long (the task keeps running on the server). Default: no limit. */
  readonly timeoutMs?: number;
  /** The method that started the task, for error messages (e.g. `PowerOnVM_Task`). */
  readonly method?: string;
  /** The object the method was called on, for error messages. */
  readonly object?: ManagedObjectReference;
}

const TASK_PATHS = ['info.state', 'info.progress', 'info.error', 'info.result', 'info.entity', 'info.entityName', 'info.name', 'info.descriptionId'];
// vcsim checks for changes on a short tick; longer waits only matter on a quiet vCenter.
const WAIT_SECONDS = 30;

/** One task being awaited: what is known of its info so far, and how to settle its caller. */
class PendingTask {
  readonly info: Record<string, unknown>;
  readonly deadline: number | undefined;
  /** In the waiter's ListView, to be taken out when the task is done. */
  listed = false;
  settled = false;
  private lastProgress = -1;

  constructor(
    readonly task: ManagedObjectReference,
    readonly options: TaskWaitOptions,
    private readonly resolve: (result: unknown) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.info = { task };
    this.deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  }

  /** Applies property values (`info.*` paths); true once the task reached a final state. */
  apply(values: Iterable<[path: string, value: unknown]>): boolean {
    for (const [path, value] of values) this.info[path.replace(/^info\./, '')] = value;
    const state = this.info.state as TaskState | undefined;
    const progress = typeof this.info.progress === 'number' ? this.info.progress : undefined;
    if (progress !== undefined && progress !== this.lastProgress && state !== 'success') {
      this.lastProgress = progress;
      this.options.onProgress?.(progress);
    }
    return state === 'success' || state === 'error';
  }

  settle(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.info.state === 'success') {
      if (this.lastProgress !== 100) this.options.onProgress?.(100);
      this.resolve(this.info.result);
    } else {
      this.reject(taskFailure(this.info as unknown as TaskInfo, this.options));
    }
  }

  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(err);
  }
}

/** The shared collector and long-poll loop of one client. */
class TaskWaiter {
  private watch: { generation: number; ready: Promise<TaskWatch> } | undefined;
  private readonly pending = new Map<string, PendingTask>();
  private looping = false;

  constructor(private readonly client: VimClient) {}

  async wait(task: ManagedObjectReference, options: TaskWaitOptions): Promise<unknown> {
    let entry!: PendingTask;
    const done = new Promise<unknown>((resolve, reject) => (entry = new PendingTask(task, options, resolve, reject)));
    if (entry.apply(await this.readInfo(entry))) {
      entry.settle();
      return done;
    }
    try {
      const watch = await this.sharedWatch();
      this.pending.set(task.value, entry);
      await this.client.call('ModifyListView', watch.view, { add: [task] });
      entry.listed = true;
      this.startLoop();
      // The task may have finished between the first read and joining the view: read it once more.
      if (entry.apply(await this.readInfo(entry))) this.finish(entry);
    } catch (err) {
      this.pending.delete(task.value);
      if (entry.listed) void this.unlist(entry);
      entry.fail(err);
    }
    return done;
  }

  /**
   * One read of the task's info. RetrieveProperties (not the paged Ex variant): one small object,
   * never paged, and it keeps a task's single read apart from the batched reads in call counts.
   */
  private async readInfo(entry: PendingTask): Promise<Array<[string, unknown]>> {
    const contents = await this.client.call<Array<{ obj: ManagedObjectReference; propSet?: Array<{ name: string; val?: unknown }>; missingSet?: Array<{ fault?: { fault?: { $type?: string } } }> }>>(
      'RetrieveProperties',
      this.client.serviceContent.propertyCollector,
      { specSet: [{ propSet: [{ type: 'Task', pathSet: TASK_PATHS }], objectSet: [{ obj: entry.task, skip: false }] }] },
      { returns: 'ObjectContent[]' },
    );
    const content = asArray(contents).find((c) => c.obj?.value === entry.task.value);
    if (!content || asArray(content.missingSet).some((m) => m.fault?.fault?.$type === 'ManagedObjectNotFound')) {
      throw vanished(entry);
    }
    return asArray(content.propSet).map((p) => [p.name, p.val]);
  }

  private sharedWatch(): Promise<TaskWatch> {
    // Collectors and views live as long as their session; after a re-login new ones are needed.
    if (!this.watch || this.watch.generation !== this.client.sessionGeneration) {
      const ready = createTaskWatch(this.client);
      const entry = { generation: this.client.sessionGeneration, ready };
      this.watch = entry;
      ready.catch(() => {
        if (this.watch === entry) this.watch = undefined;
      });
    }
    return this.watch.ready;
  }

  private startLoop(): void {
    if (this.looping) return;
    this.looping = true;
    void this.loop().finally(() => {
      this.looping = false;
      if (this.pending.size > 0) this.startLoop();
    });
  }

  private async loop(): Promise<void> {
    while (this.pending.size > 0) {
      let updates: readonly ObjectUpdate[];
      try {
        const watch = await this.sharedWatch();
        updates = (await watch.collector.waitForUpdates(this.waitSeconds()))?.objects ?? [];
      } catch (err) {
        // The collector is gone (session lost) or the call failed: every waiter learns why.
        this.watch = undefined;
        for (const entry of [...this.pending.values()]) {
          this.pending.delete(entry.task.value);
          entry.fail(err);
        }
        return;
      }
      for (const update of updates) {
        const entry = this.pending.get(update.obj.value);
        if (!entry) continue;
        if (update.kind === 'leave') {
          this.pending.delete(entry.task.value);
          entry.fail(vanished(entry));
          continue;
        }
        if (entry.apply(update.changeSet.map((c): [string, unknown] => [c.name, c.op === 'remove' ? undefined : c.val]))) this.finish(entry);
      }
      this.expireOverdue();
    }
  }

  private waitSeconds(): number {
    let seconds = WAIT_SECONDS;
    for (const entry of this.pending.values()) {
      if (entry.deadline !== undefined) seconds = Math.min(seconds, Math.ceil((entry.deadline - Date.now()) / 1000));
    }
    return Math.max(1, seconds);
  }

  private expireOverdue(): void {
    const now = Date.now();
    for (const entry of [...this.pending.values()]) {
      if (entry.deadline === undefined || entry.deadline > now) continue;
      this.pending.delete(entry.task.value);
      if (entry.listed) void this.unlist(entry);
      const { options, task } = entry;
      entry.fail(
        new VimFault(
          { faultName: 'Timeout', method: options.method ?? 'WaitForUpdatesEx', object: options.object ?? task },
          `task ${task.value}${options.method ? ` (${options.method})` : ''} did not finish within ${options.timeoutMs} ms; it may still complete on the server`,
        ),
      );
    }
  }

  /** Settles a finished task once it left the view, so the view never grows with finished tasks. */
  private finish(entry: PendingTask): void {
    if (entry.settled) return;
    this.pending.delete(entry.task.value);
    if (!entry.listed) {
      entry.settle();
      return;
    }
    void this.unlist(entry).finally(() => entry.settle());
  }

  private async unlist(entry: PendingTask): Promise<void> {
    entry.listed = false;
    const watch = await this.watch?.ready.catch(() => undefined);
    if (watch) await this.client.call('ModifyListView', watch.view, { remove: [entry.task] }).catch(() => undefined);
  }
}

/** The waiter's server-side objects: a collector with one filter over a ListView of tasks. */
interface TaskWatch {
  readonly collector: UpdateCollector;
  readonly view: ManagedObjectReference;
}

async function createTaskWatch(client: VimClient): Promise<TaskWatch> {
  const view = await client.call<ManagedObjectReference>('CreateListView', client.serviceContent.viewManager, {}, { returns: 'moref' });
  const collector = await UpdateCollector.create(client);
  await client.call(
    'CreateFilter',
    collector.collector,
    {
      spec: {
        propSet: [{ type: 'Task', pathSet: TASK_PATHS }],
        objectSet: [{ obj: view, skip: true, selectSet: [{ $type: 'TraversalSpec', name: 'tasks', type: 'ListView', path: 'view', skip: false }] }],
      },
      partialUpdates: false,
    },
    { returns: 'moref' },
  );
  return { collector, view };
}

const waiters = new WeakMap<VimClient, TaskWaiter>();

/** Waits for `task` to finish; resolves with its result, or throws TaskFailedError. */
export async function waitForTask<R = unknown>(client: VimClient, task: ManagedObjectReference, options: TaskWaitOptions = {}): Promise<R> {
  let waiter = waiters.get(client);
  if (!waiter) {
    waiter = new TaskWaiter(client);
    waiters.set(client, waiter);
  }
  return (await waiter.wait(task, options)) as R;
}

function vanished(entry: PendingTask): VimFault {
  return new VimFault(
    { faultName: 'ManagedObjectNotFound', method: entry.options.method ?? 'WaitForUpdatesEx', object: entry.task },
    `task ${entry.task.value}${entry.options.method ? ` (${entry.options.method})` : ''} vanished before it finished`,
  );
}

function taskFailure(info: TaskInfo, options: TaskWaitOptions): TaskFailedError {
  const fault = info.error?.fault;
  const { $type: faultType, ...detail } = fault ?? {};
  return new TaskFailedError({
    faultName: faultType ?? 'SystemError',
    method: options.method ?? info.descriptionId ?? info.name ?? 'task',
    object: options.object ?? info.entity,
    serverMessage: info.error?.localizedMessage,
    detail,
    task: info.task,
    entity: info.entity,
    entityName: info.entityName,
  });
}

/** Calls a `*_Task` method and waits for the task: one call for the caller, typed result or TaskFailedError. */
export async function runTask<R = unknown>(
  client: VimClient,
  method: string,
  thisRef: ManagedObjectReference,
  args: Record<string, unknown> = {},
  options: Omit<TaskWaitOptions, 'method' | 'object'> = {},
): Promise<R> {
  const task = await client.call<ManagedObjectReference>(method, thisRef, args, { returns: 'moref' });
  return waitForTask<R>(client, task, { ...options, method, object: thisRef });
}
