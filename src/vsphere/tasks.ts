/**
 * vSphere tasks, awaited through the PropertyCollector (CreateFilter on the task's `info` +
 * WaitForUpdatesEx), never by sleep-polling: the server answers as soon as the state changes.
 * A task that ends in `error` becomes a TaskFailedError carrying the vSphere fault name.
 *
 * The task is read once first, when the client's earlier tasks of the same method had typically
 * finished on the server (their queueTime → completeTime, a moving average quick to fall and slow
 * to rise; at once while none has finished yet), counted from the method's reply (`taskReads`): the
 * server queued the task before it answered, so a task is rarely still running then, whereas counted
 * from the request a loaded machine's own delay in sending it made the read come too early. One
 * already finished (most vcsim tasks; many short
 * vCenter ones) costs that one read instead of CreatePropertyCollector + CreateFilter +
 * WaitForUpdatesEx + DestroyPropertyCollector, and creates no filter (vcsim 0.46.3 never frees a
 * filter's change handler, so every filter slows each later change). A task still running is read
 * again after each pause of RECHECK_MS (10, 20, 40 ms): on a busy machine the read often overtakes a
 * task that ends a few milliseconds later (with a single second read, many tasks of a large apply
 * still went to the collector, 4 calls each, and every filter they left made vcsim slower still).
 * One still running then gets its own collector, whose first WaitForUpdatesEx reports the current
 * state, so nothing is missed. These reads are shared: the tasks of one client that are read at the
 * same time are read in one call.
 *
 * Every wait ends: at its deadline (the client's `taskTimeoutMs`, DEFAULT_TASK_TIMEOUT_MS unless
 * configured), when its AbortSignal fires (Terraform's StopProvider, Pulumi's cancel, the CLI's
 * Ctrl-C), or when the task's VM asks a question that nobody here can answer. None of these stops
 * the task on the server: the next plan finds what it did (a VM's identity is deterministic).
 *
 * Why not one collector shared by every task of a client (both variants were built and measured):
 *  - a filter per task on a shared collector: vcsim re-collects every filter for every change, per
 *    filter (O(filters² × changes) per tick), so concurrent tasks finished far apart;
 *  - one filter over a ListView that tasks join and leave: fast on a small inventory, but a
 *    long-lived collector is sent every change of the whole inventory and vcsim re-collects the
 *    filter per change, so a large terraform apply stalled on its WaitForUpdatesEx;
 *  - measured again for every wait of a command (2026-12-04, 200 × CreateVM + PowerOn, 10 in
 *    flight): that ListView filter needed a ModifyListView per batch of new tasks, 3.1–3.3 calls per
 *    VM against these reads' 2.6–3.4, in 2.4–3.1 s against 0.3–1.9 s; a TaskHistoryCollector's
 *    `latestPage` under one filter needs no call per task (2.2 per VM), but vcsim answered its
 *    WaitForUpdatesEx about every 270 ms and each answer carries the whole page: 11.7–14.9 s and
 *    1 s of client CPU.
 * A collector per task sees only its own wait's changes. The measurements are in bench/README.md.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { NotFoundError, TaskFailedError, VimFault, formatMoRef, isNotFound } from './errors';
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
  /** Give up after this long (the task keeps running on the server). Default: the client's `taskTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Stop waiting when this aborts (the task keeps running). Default: the signal of the enclosing `withTaskCancellation`. */
  readonly signal?: AbortSignal;
  /** The method that started the task, for error messages (e.g. `PowerOnVM_Task`). */
  readonly method?: string;
  /** The object the method was called on, for error messages. */
  readonly object?: ManagedObjectReference;
  /** When the method that started the task answered (Date.now()): the first read waits for the method's typical duration from then. */
  readonly repliedAt?: number;
}

/**
 * How long a task wait lasts unless configured: long enough for the slowest task vic starts (a
 * power-on behind a busy host, a large disk copy), short enough that a stuck task ends the run.
 */
export const DEFAULT_TASK_TIMEOUT_MS = 30 * 60_000;

/** The deadline passed; the task may still finish on the server. */
export class TaskTimeoutError extends VimFault {}
/** The wait was cancelled (interrupt, StopProvider, cancel); the task may still finish on the server. */
export class TaskCancelledError extends VimFault {}

/** The question a VM is blocked on (vim25 VirtualMachineQuestionInfo). */
export interface VmQuestion {
  readonly id?: string;
  readonly text: string;
  readonly choices: readonly string[];
}

/** The task's VM is blocked on a question; vSphere holds the task until someone answers it. */
export class VmQuestionError extends VimFault {
  readonly vm: ManagedObjectReference;
  readonly question: VmQuestion;

  constructor(
    init: Omit<ConstructorParameters<typeof VimFault>[0], 'faultName'> & {
      vm: ManagedObjectReference;
      vmName?: string;
      question: VmQuestion;
      task: ManagedObjectReference;
    },
  ) {
    const choices = init.question.choices.length ? ` (choices: ${init.question.choices.join(', ')})` : '';
    super(
      { ...init, faultName: 'VmQuestion', serverMessage: init.question.text },
      `${init.method} on ${formatMoRef(init.object)} is blocked: VM ${init.vmName ? `"${init.vmName}" ` : ''}${init.vm.value} asks "${init.question.text}"${choices}. ` +
        `Answer the question in the vSphere Client (or with "govc vm.question"), then run again; task ${init.task.value} goes on once it is answered.`,
    );
    this.vm = init.vm;
    this.question = init.question;
  }
}

const TASK_PATHS = [
  'info.state',
  'info.progress',
  'info.error',
  'info.result',
  'info.entity',
  'info.entityName',
  'info.name',
  'info.descriptionId',
  'info.queueTime',
  'info.completeTime',
];
const QUESTION_PATH = 'runtime.question';
// vcsim checks for changes on a 250 ms tick; longer waits only matter on a quiet vCenter.
const WAIT_SECONDS = 30;
/**
 * The pauses before each look again at a task found running, before a collector: short enough to
 * cost nothing next to one (4 calls; on vcsim a filter it never frees and a 250 ms tick).
 */
const RECHECK_MS = [10, 20, 40];
/** The first read waits no longer than this, whatever the method typically takes: a slow one is left to the collector. */
const MAX_FIRST_READ_DELAY_MS = 1000;

/**
 * When a task's info is read before a collector watches it: the pause before each read, the first
 * counted from the reply of the method that started the task (`sinceReplyMs` ago). The first read
 * comes when tasks of that method typically finished (`typicalMs`, see TaskReader.observe; at once
 * while none has, or when that time has passed already), at most MAX_FIRST_READ_DELAY_MS after the
 * reply; each later one RECHECK_MS after the one before.
 */
export function taskReads(typicalMs: number | undefined, sinceReplyMs = 0): number[] {
  const first = typicalMs === undefined ? 0 : Math.max(0, Math.round(Math.min(MAX_FIRST_READ_DELAY_MS, typicalMs) - Math.max(0, sinceReplyMs)));
  return [first, ...RECHECK_MS];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

const cancellationScope = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `work` so that every task wait inside it, however deep, stops when `signal` aborts. The
 * engine wraps each apply in it, so resource code needs no signal plumbing of its own.
 */
export function withTaskCancellation<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  return signal ? cancellationScope.run(signal, work) : work();
}

/** The signal of the enclosing `withTaskCancellation`, if any. */
export function currentCancellation(): AbortSignal | undefined {
  return cancellationScope.getStore();
}

interface WaitContext {
  readonly task: ManagedObjectReference;
  readonly method: string;
  readonly object: ManagedObjectReference;
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

function describeTask(ctx: WaitContext): string {
  return `task ${ctx.task.value} (${ctx.method} on ${formatMoRef(ctx.object)})`;
}

function cancelled(ctx: WaitContext): TaskCancelledError {
  const reason = ctx.signal?.reason instanceof Error ? ctx.signal.reason.message : ctx.signal?.reason !== undefined ? String(ctx.signal.reason) : 'cancelled';
  return new TaskCancelledError(
    { faultName: 'Cancelled', method: ctx.method, object: ctx.object },
    `stopped waiting for ${describeTask(ctx)}: ${reason}. The task may still finish on the server; the next plan or apply picks up what it did.`,
  );
}

function timedOut(ctx: WaitContext): TaskTimeoutError {
  return new TaskTimeoutError(
    { faultName: 'Timeout', method: ctx.method, object: ctx.object },
    `${describeTask(ctx)} did not finish within ${formatDuration(ctx.timeoutMs)}; it may still complete on the server. ` +
      'Look at the task in the vSphere Client; if it is only slow, raise the task deadline (task_timeout, or VIC_TASK_TIMEOUT) and run again.',
  );
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Settles with `work`, or rejects at the deadline or on abort, whichever comes first. */
function bounded<T>(ctx: WaitContext, work: Promise<T>, onAbandon?: () => void): Promise<T> {
  if (ctx.signal?.aborted) {
    work.catch(() => undefined);
    onAbandon?.();
    return Promise.reject(cancelled(ctx));
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (err: Error) => {
      cleanup();
      work.catch(() => undefined);
      onAbandon?.();
      reject(err);
    };
    const onAbort = () => stop(cancelled(ctx));
    // setTimeout fires at once beyond 2^31-1 ms (about 24 days); so far off, the wait loop's own check suffices.
    const remaining = Math.max(0, ctx.deadline - Date.now());
    const timer = remaining <= MAX_TIMER_MS ? setTimeout(() => stop(timedOut(ctx)), remaining) : undefined;
    const cleanup = () => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}

/** Waits for `task` to finish; resolves with its result, or throws TaskFailedError (or a timeout, cancel or question error). */
export async function waitForTask<R = unknown>(client: VimClient, task: ManagedObjectReference, options: TaskWaitOptions = {}): Promise<R> {
  const timeoutMs = options.timeoutMs ?? client.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
  const ctx: WaitContext = {
    task,
    method: options.method ?? 'WaitForUpdatesEx',
    object: options.object ?? task,
    timeoutMs,
    deadline: Date.now() + timeoutMs,
    signal: options.signal ?? cancellationScope.getStore(),
  };
  const reader = taskReaderOf(client);
  const typical = options.repliedAt !== undefined && options.method ? reader.typicalMs(options.method) : undefined;
  const [first, ...rechecks] = taskReads(typical, options.repliedAt === undefined ? 0 : Date.now() - options.repliedAt);
  if (first >= 1) await bounded(ctx, new Promise((resolve) => setTimeout(resolve, first)));
  const ended = <T>(value: T): T => {
    if (options.method) reader.observe(options.method, info);
    return value;
  };
  let info: Record<string, unknown> = { task, ...(await bounded(ctx, readTaskInfo(client, task, options))) };
  for (const pause of rechecks) {
    if (info.state !== 'running' && info.state !== 'queued') break;
    await bounded(ctx, new Promise((resolve) => setTimeout(resolve, pause)));
    info = { task, ...(await bounded(ctx, readTaskInfo(client, task, options))) };
  }
  let lastProgress = -1;
  if (info.state === 'success') {
    options.onProgress?.(100);
    return ended(info.result as R);
  }
  if (typeof info.progress === 'number') {
    lastProgress = info.progress;
    options.onProgress?.(info.progress);
  }
  if (info.state === 'error') throw ended(taskFailure(info as unknown as TaskInfo, options));
  // A VM blocked on a question holds its task until someone answers: watch the VM too.
  const entity = info.entity as ManagedObjectReference | undefined;
  const vm = entity?.type === 'VirtualMachine' ? entity : options.object?.type === 'VirtualMachine' ? options.object : undefined;
  const collector = await bounded(ctx, UpdateCollector.create(client));
  let cancelling: Promise<void> | undefined;
  try {
    // The VM's own name: a task's entityName is the moref on vcsim.
    const select = [{ type: 'Task', paths: TASK_PATHS }, ...(vm ? [{ type: 'VirtualMachine', paths: ['name', QUESTION_PATH] }] : [])];
    let vmName: string | undefined;
    await bounded(ctx, collector.addFilter(vm ? [task, vm] : [task], select));
    for (;;) {
      const remainingSeconds = Math.ceil((ctx.deadline - Date.now()) / 1000);
      if (remainingSeconds <= 0) throw timedOut(ctx);
      // An abandoned long poll is cancelled on the server, so the collector can go at once.
      const batch = await bounded(ctx, collector.waitForUpdates(Math.min(WAIT_SECONDS, remainingSeconds)), () => {
        cancelling = collector.cancelWait();
      }).catch((err: unknown) => {
        // The watched VM is gone (a destroy task removes it) and the collector fails with it:
        // from here on the task alone says how it ends.
        if (vm && isNotFound(err)) return undefined;
        throw err;
      });
      if (batch === undefined && vm) return awaitTaskByReading<R>(client, task, ctx, options);
      for (const update of batch?.objects ?? []) {
        if (update.obj.type !== 'Task') {
          const name = update.changeSet.find((c) => c.name === 'name')?.val;
          if (typeof name === 'string') vmName = name;
          const question = questionOf(update.changeSet.find((c) => c.name === QUESTION_PATH)?.val);
          if (question && vm) throw new VmQuestionError({ method: ctx.method, object: ctx.object, vm, vmName, question, task });
          continue;
        }
        if (update.kind === 'leave') {
          throw new VimFault({ faultName: 'ManagedObjectNotFound', method: ctx.method, object: task }, `task ${task.value} vanished before it finished`);
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
        return ended(info.result as R);
      }
      if (state === 'error') throw ended(taskFailure(info as unknown as TaskInfo, options));
    }
  } finally {
    // Cancel before destroy: a collector destroyed first leaves its long poll waiting on the server.
    await cancelling;
    await collector.destroy();
  }
}

/** vim25 VirtualMachineQuestionInfo as decoded, or undefined when the VM asks nothing. */
function questionOf(value: unknown): VmQuestion | undefined {
  const q = value as { id?: string; text?: string; choice?: { choiceInfo?: unknown } } | undefined;
  if (!q || typeof q !== 'object' || typeof q.text !== 'string' || q.text === '') return undefined;
  const choices = asArray(q.choice?.choiceInfo as Array<{ label?: string; key?: string }> | undefined)
    .map((c) => c?.label ?? c?.key)
    .filter((c): c is string => typeof c === 'string');
  return { id: q.id, text: q.text, choices };
}

/** Polls the task's info until it ends or the deadline passes (when no collector can watch it). */
async function awaitTaskByReading<R>(client: VimClient, task: ManagedObjectReference, ctx: WaitContext, options: TaskWaitOptions): Promise<R> {
  for (;;) {
    const info: Record<string, unknown> = { task, ...(await bounded(ctx, readTaskInfo(client, task, options))) };
    if (info.state === 'success') {
      options.onProgress?.(100);
      return info.result as R;
    }
    if (info.state === 'error') throw taskFailure(info as unknown as TaskInfo, options);
    if (Date.now() >= ctx.deadline) throw timedOut(ctx);
    await bounded(ctx, new Promise((resolve) => setTimeout(resolve, 250)));
  }
}

interface TaskContent {
  readonly obj?: ManagedObjectReference;
  readonly propSet?: Array<{ name: string; val?: unknown }>;
  readonly missingSet?: Array<{ fault?: { fault?: { $type?: string } } }>;
}

interface QueuedRead {
  readonly task: ManagedObjectReference;
  readonly resolve: (content: TaskContent | undefined) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Gathers the task reads of one client: those asked for while a read is on the wire go out
 * together in the next one. A command creating many VMs at once has several tasks waiting at any
 * time, and each of them costs a round trip only when it is alone. No timed window: the first read
 * leaves on the next turn of the event loop, the others are gathered by the round trip before them.
 * A batch that fails (a task of it vanished: the whole call faults) is read again task by task, so
 * each wait gets its own answer.
 */
class TaskReader {
  private queued: QueuedRead[] = [];
  private busy = false;
  /** Per method, how long its tasks lately took on the server (ms). */
  private readonly typical = new Map<string, number>();

  constructor(private readonly client: VimClient) {}

  typicalMs(method: string): number | undefined {
    return this.typical.get(method);
  }

  /**
   * Records how long a finished task took on the server. Quick to fall, slow to rise: a task that
   * ends sooner than the estimate waits for nothing but the first read, so one slow task must not
   * delay the reads of the quick ones that follow.
   */
  observe(method: string, info: Readonly<Record<string, unknown>>): void {
    const queued = typeof info.queueTime === 'string' ? Date.parse(info.queueTime) : NaN;
    const completed = typeof info.completeTime === 'string' ? Date.parse(info.completeTime) : NaN;
    const took = completed - queued;
    if (!Number.isFinite(took) || took < 0) return;
    const before = this.typical.get(method);
    this.typical.set(method, before === undefined ? took : before + (took - before) * (took < before ? 0.5 : 0.125));
  }

  read(task: ManagedObjectReference): Promise<TaskContent | undefined> {
    return new Promise((resolve, reject) => {
      this.queued.push({ task, resolve, reject });
      if (this.busy) return;
      this.busy = true;
      // Outside any cancellation scope: the read serves every waiter, and each one stops
      // waiting on its own signal (the read itself is short and harmless to finish).
      cancellationScope.exit(() => setImmediate(() => void this.flush()));
    });
  }

  private async flush(): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.busy = false;
    }
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued;
      this.queued = [];
      try {
        const contents = await this.retrieve(batch.map((q) => q.task));
        for (const q of batch) q.resolve(contents.find((c) => c.obj?.value === q.task.value));
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        else
          await Promise.all(
            batch.map((q) =>
              this.retrieve([q.task]).then(
                (contents) => q.resolve(contents.find((c) => c.obj?.value === q.task.value)),
                (e: unknown) => q.reject(e),
              ),
            ),
          );
      }
    }
  }

  /**
   * RetrieveProperties, not the paged Ex variant: the info of a few tasks is never paged, and call
   * counts keep task reads apart from batched inventory reads.
   */
  private async retrieve(tasks: readonly ManagedObjectReference[]): Promise<TaskContent[]> {
    const unique = [...new Map(tasks.map((t) => [t.value, t])).values()];
    const contents = await this.client.call<TaskContent[]>(
      'RetrieveProperties',
      this.client.serviceContent.propertyCollector,
      { specSet: [{ propSet: [{ type: 'Task', pathSet: TASK_PATHS }], objectSet: unique.map((obj) => ({ obj, skip: false })) }] },
      { returns: 'ObjectContent[]' },
    );
    return asArray(contents);
  }
}

const taskReaders = new WeakMap<VimClient, TaskReader>();

function taskReaderOf(client: VimClient): TaskReader {
  let reader = taskReaders.get(client);
  if (!reader) taskReaders.set(client, (reader = new TaskReader(client)));
  return reader;
}

/** The task's info, read together with the other tasks of the client waiting at the same time. */
async function readTaskInfo(client: VimClient, task: ManagedObjectReference, options: TaskWaitOptions): Promise<Record<string, unknown>> {
  const content = await taskReaderOf(client)
    .read(task)
    .catch((err: unknown) => {
      // The server's fault names only the collector; the caller needs to know which task is gone.
      if (!isNotFound(err)) throw err;
      throw new NotFoundError(
        { faultName: 'ManagedObjectNotFound', method: options.method ?? 'RetrieveProperties', object: task },
        `task ${task.value}${options.method ? ` (${options.method})` : ''} no longer exists on the server: ${err.message}`,
      );
    });
  if (!content || asArray(content.missingSet).some((m) => m.fault?.fault?.$type === 'ManagedObjectNotFound')) {
    throw new VimFault(
      { faultName: 'ManagedObjectNotFound', method: options.method ?? 'RetrieveProperties', object: task },
      `task ${task.value}${options.method ? ` (${options.method})` : ''} vanished before it finished`,
    );
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
  // Once cancelled, no new task starts: the ones already running are all the next run must find.
  const signal = options.signal ?? cancellationScope.getStore();
  if (signal?.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'cancelled');
    throw new TaskCancelledError({ faultName: 'Cancelled', method, object: thisRef }, `${method} on ${formatMoRef(thisRef)} was not started: ${reason}`);
  }
  const task = await client.call<ManagedObjectReference>(method, thisRef, args, { returns: 'moref' });
  return waitForTask<R>(client, task, { ...options, signal, method, object: thisRef, repliedAt: Date.now() });
}
