/**
 * Every task wait ends: at its deadline, on cancellation, or when the task's VM asks a question.
 * Against a real vcsim whose control API holds tasks running (`async` rules) and sets a VM's
 * runtime.question (vcsim never asks one itself).
 */
import { connectionSettings } from '../../src/resources';
import {
  DEFAULT_TASK_TIMEOUT_MS,
  TaskCancelledError,
  TaskTimeoutError,
  VimClient,
  VmQuestionError,
  powerOffVm,
  powerOnVm,
  reconfigureVm,
  retrieveFromContainer,
  retrieveObject,
  moRef,
  waitForTask,
  withTaskCancellation,
  type ManagedObjectReference,
} from '../../src/vsphere';
import { encodeVmConfigSpec } from '../../src/vsphere/virtual-machine';
import { useSimulator } from '../helpers/vcsim';

describe('task waits: deadlines, cancellation and VM questions', () => {
  const sim = useSimulator({ vms: 1 });
  let client: VimClient;
  let vm: ManagedObjectReference;

  const connect = (taskTimeoutMs?: number) =>
    VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint, taskTimeoutMs });
  const power = async () => (await retrieveObject<{ 'runtime.powerState': string }>(client, vm, ['runtime.powerState']))['runtime.powerState'];

  beforeAll(async () => {
    client = await connect();
    const rows = await retrieveFromContainer<{ name: string }>(client, {
      container: client.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    vm = rows.find((r) => r.props.name === 'DC0_H0_VM0')!.ref;
  });
  afterEach(async () => {
    await sim().control.clearFaults();
  });
  afterAll(async () => {
    await client?.close();
  });

  it.each([
    ['90s', 90_000],
    ['45m', 2_700_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
  ])('GIVEN task_timeout = %s WHEN the connection is read THEN each task wait gets %d ms', (text, ms) => {
    const { settings, problems } = connectionSettings({ vsphere_server: 'vc', user: 'u', password: 'p', task_timeout: text });
    expect(problems).toEqual([]);
    expect(settings?.taskTimeoutMs).toBe(ms);
  });

  it('GIVEN task_timeout = "soon" WHEN the connection is read THEN the problem names the attribute, the value and the units', () => {
    const { settings, problems } = connectionSettings({ vsphere_server: 'vc', user: 'u', password: 'p', task_timeout: 'soon' });
    expect(settings).toBeUndefined();
    expect(problems).toEqual([
      expect.objectContaining({
        path: ['task_timeout'],
        detail: expect.stringMatching(/task_timeout = "soon" is not a positive duration\. Write a number with a unit: ms, s, m or h/),
      }),
    ]);
  });

  it('GIVEN no configured deadline WHEN a client connects THEN its task waits end after the 30 minute default', () => {
    expect(DEFAULT_TASK_TIMEOUT_MS).toBe(30 * 60_000);
    expect(client.taskTimeoutMs).toBe(DEFAULT_TASK_TIMEOUT_MS);
  });

  it('GIVEN a client whose task deadline is 1 s WHEN a power-off runs for 6 s THEN the wait ends at the deadline, saying what to do, and the task still completes', async () => {
    const short = await connect(1000);
    try {
      await sim().control.addFault({ method: 'PowerOffVM_Task', this: vm.value, kind: 'async', delayMs: 6000 });
      const started = Date.now();
      const err = await powerOffVm(short, vm).catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(err).toBeInstanceOf(TaskTimeoutError);
      expect((err as Error).message).toMatch(
        /^task task-\d+ \(PowerOffVM_Task on VirtualMachine:vm-\d+\) did not finish within 1s; it may still complete on the server\. .*raise the task deadline \(task_timeout, or VIC_TASK_TIMEOUT\)/,
      );
      expect(waited).toBeGreaterThanOrEqual(1000);
      expect(waited).toBeLessThan(4000);
      // THEN the server's task goes on and the VM ends powered off
      const deadline = Date.now() + 15_000;
      while ((await power()) !== 'poweredOff' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(await power()).toBe('poweredOff');
    } finally {
      await short.close();
    }
  }, 30_000);

  it('GIVEN a power-on held for 5 s WHEN its signal aborts after 700 ms THEN the wait ends at once with the reason, and the long poll is cancelled on the server', async () => {
    await sim().control.addFault({ method: 'PowerOnVM_Task', this: vm.value, kind: 'async', delayMs: 5000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('Terraform asked the provider to stop (interrupt)')), 700);
    const before = client.stats.calls('CancelWaitForUpdates');
    const started = Date.now();
    const err = await powerOnVm(client, vm, { signal: abort.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect((err as Error).message).toMatch(
      /^stopped waiting for task task-\d+ \(PowerOnVM_Task on VirtualMachine:vm-\d+\): Terraform asked the provider to stop \(interrupt\)\. The task may still finish/,
    );
    expect(Date.now() - started).toBeLessThan(2500);
    expect(client.stats.calls('CancelWaitForUpdates')).toBe(before + 1);
  }, 30_000);

  it('GIVEN a cancellation scope WHEN it aborts THEN a wait deep inside stops without being handed the signal, and no new task starts', async () => {
    // the previous test's power-on is still held on the server; wait for it to end
    const deadline = Date.now() + 25_000;
    while ((await power()) !== 'poweredOn' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await sim().control.addFault({ method: 'PowerOffVM_Task', this: vm.value, kind: 'async', delayMs: 8000 });
    const abort = new AbortController();
    const inScope = withTaskCancellation(abort.signal, async () => {
      await powerOffVm(client, vm);
      await powerOnVm(client, vm);
    });
    setTimeout(() => abort.abort(new Error('interrupted (Ctrl-C)')), 500);
    await expect(inScope).rejects.toThrow(/stopped waiting for task task-\d+ \(PowerOffVM_Task .*\): interrupted \(Ctrl-C\)/);
    const powerOns = client.stats.calls('PowerOnVM_Task');
    await expect(withTaskCancellation(abort.signal, () => powerOnVm(client, vm))).rejects.toThrow(
      /^PowerOnVM_Task on VirtualMachine:vm-\d+ was not started: interrupted \(Ctrl-C\)$/,
    );
    expect(client.stats.calls('PowerOnVM_Task')).toBe(powerOns);
  }, 40_000);

  it('GIVEN a call the server keeps answering 503 WHEN its cancellation scope aborts during the backoff THEN it fails at once instead of retrying', async () => {
    await sim().control.addFault({ method: 'CurrentTime', kind: 'http', httpStatus: 503, times: -1 });
    const serviceInstance = { type: 'ServiceInstance', value: 'ServiceInstance' };
    // GIVEN the full backoff (250 + 500 + 1000 ms, give or take a fifth) without a cancel
    let started = Date.now();
    await expect(client.call('CurrentTime', serviceInstance)).rejects.toThrow(/got HTTP 503/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    // WHEN the scope aborts 100 ms in
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('interrupted (Ctrl-C)')), 100);
    started = Date.now();
    await expect(withTaskCancellation(abort.signal, () => client.call('CurrentTime', serviceInstance))).rejects.toThrow(/got HTTP 503/);
    expect(Date.now() - started).toBeLessThan(700);
  }, 30_000);

  it('GIVEN a power-on that a VM question blocks WHEN waited for THEN the wait fails with the question text, its choices and what to do', async () => {
    const deadline = Date.now() + 15_000;
    while ((await power()) !== 'poweredOff' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await sim().control.addFault({ method: 'PowerOnVM_Task', this: vm.value, kind: 'async', delayMs: 15_000 });
    const text = 'This virtual machine might have been moved or copied. Did you move it or copy it?';
    // the question arrives while the wait is already on the collector
    setTimeout(() => void sim().control.setQuestion(vm.value, text, ['Cancel', 'I Moved It', 'I Copied It']), 800);
    const started = Date.now();
    const err = await powerOnVm(client, vm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmQuestionError);
    expect((err as VmQuestionError).question).toEqual({ id: expect.any(String), text, choices: ['Cancel', 'I Moved It', 'I Copied It'] });
    const expected = `PowerOnVM_Task on VirtualMachine:${vm.value} is blocked: VM "DC0_H0_VM0" ${vm.value} asks "${text}" (choices: Cancel, I Moved It, I Copied It). Answer the question in the vSphere Client (or with "govc vm.question"), then run again; task TASK goes on once it is answered.`;
    expect((err as Error).message.replace(/task task-\d+ goes on/, 'task TASK goes on')).toBe(expected);
    expect(Date.now() - started).toBeLessThan(5000);
    await sim().control.clearQuestion(vm.value);
  }, 30_000);

  it('GIVEN a question already pending WHEN a task on that VM is waited for THEN it is reported from the first collector answer', async () => {
    await sim().control.setQuestion(vm.value, 'Insufficient disk space on datastore LocalDS_0. Retry?', ['Retry', 'Cancel']);
    await sim().control.addFault({ method: 'ReconfigVM_Task', this: vm.value, kind: 'async', delayMs: 10_000 });
    const started = Date.now();
    await expect(reconfigureVm(client, vm, { annotation: 'x' })).rejects.toThrow(
      /^ReconfigVM_Task on VirtualMachine:vm-\d+ is blocked: VM "DC0_H0_VM0" vm-\d+ asks "Insufficient disk space on datastore LocalDS_0\. Retry\?" \(choices: Retry, Cancel\)/,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  }, 30_000);

  it('GIVEN eight tasks waited for at once, and one task that does not exist WHEN they are read THEN the eight share their reads and finish, and only the missing one fails', async () => {
    const tasks: ManagedObjectReference[] = [];
    for (let i = 0; i < 8; i++) {
      tasks.push(
        await client.call<ManagedObjectReference>(
          'ReconfigVM_Task',
          vm,
          { spec: encodeVmConfigSpec({ annotation: `shared read ${i}` }) },
          { returns: 'moref' },
        ),
      );
    }
    const before = client.stats.calls('RetrieveProperties');
    await expect(Promise.all(tasks.map((task) => waitForTask(client, task)))).resolves.toHaveLength(8);
    // One read for all of them, and one more if some were still running at the first.
    expect(client.stats.calls('RetrieveProperties') - before).toBeLessThanOrEqual(2);

    const gone = moRef('Task', 'task-424242');
    const again = await Promise.allSettled([gone, ...tasks.slice(0, 3)].map((task) => waitForTask(client, task)));
    expect(again.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(String((again[0] as PromiseRejectedResult).reason)).toMatch(/task-424242/);
  }, 30_000);

  it('GIVEN two task waits read together, in two cancellation scopes, and a server answering 503 three times WHEN the first scope aborts THEN only its wait stops, and the other rides out the backoff and completes', async () => {
    const [first, second] = [
      await client.call<ManagedObjectReference>('ReconfigVM_Task', vm, { spec: encodeVmConfigSpec({ annotation: 'scope a' }) }, { returns: 'moref' }),
      await client.call<ManagedObjectReference>('ReconfigVM_Task', vm, { spec: encodeVmConfigSpec({ annotation: 'scope b' }) }, { returns: 'moref' }),
    ];
    await sim().control.addFault({ method: 'RetrieveProperties', kind: 'http', httpStatus: 503, times: 3 });
    const abort = new AbortController();
    const a = withTaskCancellation(abort.signal, () => waitForTask(client, first));
    const b = withTaskCancellation(new AbortController().signal, () => waitForTask(client, second));
    // Both reads are queued for the same round trip, which the first one asked for.
    abort.abort(new Error('interrupted (Ctrl-C)'));
    await expect(a).rejects.toThrow(/interrupted \(Ctrl-C\)/);
    await expect(b).resolves.toBeUndefined();
  }, 30_000);

  it('GIVEN the question answered (cleared) WHEN a held task on the VM is waited for THEN it completes normally', async () => {
    await sim().control.clearQuestion(vm.value);
    await sim().control.addFault({ method: 'ReconfigVM_Task', this: vm.value, kind: 'async', delayMs: 1000 });
    await expect(reconfigureVm(client, vm, { annotation: 'y' })).resolves.toBeUndefined();
    expect((await retrieveObject<{ 'config.annotation': string }>(client, vm, ['config.annotation']))['config.annotation']).toBe('y');
  }, 30_000);

  it('GIVEN a client whose reconfigure tasks lately ran 600 ms on the server WHEN it waits for the next one THEN it reads it once that long has passed, and needs no collector', async () => {
    const fresh = await connect();
    try {
      await sim().control.addFault({ method: 'ReconfigVM_Task', this: vm.value, kind: 'async', delayMs: 600, times: 2 });
      // Nothing known yet: read at once, again after 10, 20 and 40 ms, then a collector waits for it.
      await reconfigureVm(fresh, vm, { annotation: 'typical 1' });
      expect(fresh.stats.calls('CreatePropertyCollector')).toBe(1);
      const reads = fresh.stats.calls('RetrieveProperties');
      const started = Date.now();
      await reconfigureVm(fresh, vm, { annotation: 'typical 2' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      expect(fresh.stats.calls('CreatePropertyCollector')).toBe(1);
      // The first read comes when the task typically ends; a few more if the server, loaded by other
      // tests, ended it late (a clean-clone run once needed 3). Not knowing, it would read at once,
      // after 10, 20 and 40 ms, then make a collector (the count above).
      expect(fresh.stats.calls('RetrieveProperties') - reads).toBeLessThanOrEqual(4);
    } finally {
      await fresh.close();
    }
  }, 30_000);
});
