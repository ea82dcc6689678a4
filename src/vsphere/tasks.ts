/**
 * vSphere tasks, awaited through the PropertyCollector (CreateFilter on the task's `info` +
 * WaitForUpdatesEx), never by sleep-polling: the server answers as soon as the state changes.
 * A task that ends in `error` becomes a TaskFailedError carrying the vSphere fault name.
 *
 * The task is read once first: one already finished (most vcsim tasks, whose goroutine usually
 * ends before the read arrives; many short vCenter ones) costs that one read instead of
 * CreatePropertyCollector + CreateFilter + WaitForUpdatesEx + DestroyPropertyCollector, and creates no filter (vcsim 0.46.3 never frees a
 * filter's change handler, so every filter slows each later change). A task still running is read
 * once more after RECHECK_MS: on a busy machine the read often overtakes a task that ends a few
 * milliseconds later (up to 40 % of the tasks of a 200-VM apply went to the collector, 4 calls each,
 * and every filter they left made vcsim slower still). One still running then gets its own
 * collector, whose first WaitForUpdatesEx reports the current state, so nothing is missed.
 *
 * Why not one collector shared by every task of a client (both variants were built and measured):
 *  - a filter per task on a shared collector: vcsim re-collects every filter for every change, per
 *    filter (O(filters² × changes) per tick); 10 concurrent 500 ms tasks took 5.3 s (1.1 s apart);
 *  - one filter over a ListView that tasks join and leave: fast on a small inventory (0.74 s for the
 *    same 10), but a long-lived collector is sent every change of the whole inventory and vcsim
 *    re-collects the filter per change: during a 1000-VM terraform apply its WaitForUpdatesEx took
 *    3.5 s on average and the apply stalled. A collector per task sees only its own wait's changes.
 */
import { TaskFailedError, VimFault } from './errors';
import { UpdateCollector } from './property-collector';
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
// vcsim checks for changes on a 250 ms tick; longer waits only matter on a quiet vCenter.
const WAIT_SECONDS = 30;
/** The second look at a task found running: short enough to cost nothing next to a collector. */
const RECHECK_MS = 10;

/** Waits for `task` to finish; resolves with its result, or throws TaskFailedError. */
export async function waitForTask<R = unknown>(client: VimClient, task: ManagedObjectReference, options: TaskWaitOptions = {}): Promise<R> {
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  let info: Record<string, unknown> = { task, ...(await readTaskInfo(client, task, options)) };
  if (info.state === 'running' || info.state === 'queued') {
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
    info = { task, ...(await readTaskInfo(client, task, options)) };
  }
  let lastProgress = -1;
  if (info.state === 'success') {
    options.onProgress?.(100);
    return info.result as R;
  }
  if (typeof info.progress === 'number') {
    lastProgress = info.progress;
    options.onProgress?.(info.progress);
  }
  if (info.state === 'error') throw taskFailure(info as unknown as TaskInfo, options);
  const collector = await UpdateCollector.create(client);
  try {
    await collector.addFilter([task], [{ type: 'Task', paths: TASK_PATHS }]);
    for (;;) {
      const remainingSeconds = deadline === undefined ? WAIT_SECONDS : Math.ceil((deadline - Date.now()) / 1000);
      if (remainingSeconds <= 0) {
        throw new VimFault(
          { faultName: 'Timeout', method: options.method ?? 'WaitForUpdatesEx', object: options.object ?? task },
          `task ${task.value}${options.method ? ` (${options.method})` : ''} did not finish within ${options.timeoutMs} ms; it may still complete on the server`,
        );
      }
      const batch = await collector.waitForUpdates(Math.min(WAIT_SECONDS, remainingSeconds));
      for (const update of batch?.objects ?? []) {
        if (update.kind === 'leave') {
          throw new VimFault({ faultName: 'ManagedObjectNotFound', method: options.method ?? 'WaitForUpdatesEx', object: task }, `task ${task.value} vanished before it finished`);
        }
        for (const change of update.changeSet) info[change.name.replace(/^info\./, '')] = change.op === 'remove' ? undefined : change.val;
      }
      const state = info.state as TaskState | undefined;
      const progress = typeof info.progress === 'number' ? info.progress : undefined;
      if (progress !== undefined && progress !== lastProgress && state !== 'success') {
        lastProgress = progress;
        options.onProgress?.(progress);
      }
      if (state === 'success') {
        if (lastProgress !== 100) options.onProgress?.(100);
        return info.result as R;
      }
      if (state === 'error') throw taskFailure(info as unknown as TaskInfo, options);
    }
  } finally {
    await collector.destroy();
  }
}

/**
 * The task's info in one call. RetrieveProperties, not the paged Ex variant: one small object is
 * never paged, and call counts keep this single read apart from batched reads.
 */
async function readTaskInfo(client: VimClient, task: ManagedObjectReference, options: TaskWaitOptions): Promise<Record<string, unknown>> {
  const contents = await client.call<Array<{ obj?: ManagedObjectReference; propSet?: Array<{ name: string; val?: unknown }>; missingSet?: Array<{ fault?: { fault?: { $type?: string } } }> }>>(
    'RetrieveProperties',
    client.serviceContent.propertyCollector,
    { specSet: [{ propSet: [{ type: 'Task', pathSet: TASK_PATHS }], objectSet: [{ obj: task, skip: false }] }] },
    { returns: 'ObjectContent[]' },
  );
  const content = asArray(contents).find((c) => c.obj?.value === task.value);
  if (!content || asArray(content.missingSet).some((m) => m.fault?.fault?.$type === 'ManagedObjectNotFound')) {
    throw new VimFault({ faultName: 'ManagedObjectNotFound', method: options.method ?? 'RetrieveProperties', object: task }, `task ${task.value}${options.method ? ` (${options.method})` : ''} vanished before it finished`);
  }
  const info: Record<string, unknown> = {};
  for (const prop of asArray(content.propSet)) info[prop.name.replace(/^info\./, '')] = prop.val;
  return info;
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
