import {
  Inventory,
  NotFoundError,
  TaskFailedError,
  UpdateCollector,
  VimClient,
  destroyVm,
  extraConfigOf,
  isInvalidPowerState,
  powerOffVm,
  powerOnVm,
  retrieveFromContainer,
  retrieveObject,
  retrieveObjects,
  runTask,
  type Datacenter,
  type ManagedObjectReference,
  type OptionValue,
} from '../../../src/vsphere';
import { useSimulator } from '../../helpers/vcsim';

// 13 model VMs per pool and host: 13 on the standalone host + 13 in the cluster = 26 VMs.
const VMS_PER_POOL = 13;

interface VmProps {
  name: string;
  'runtime.powerState': string;
  'config.extraConfig': OptionValue[];
  'config.hardware.device': Array<{ $type: string; key: number }>;
}

describe('PropertyCollector and tasks against vcsim', () => {
  const sim = useSimulator({ vms: VMS_PER_POOL });
  let client: VimClient;
  let dc: Datacenter;
  let vms: Array<{ ref: ManagedObjectReference; name: string }>;

  beforeAll(async () => {
    client = await VimClient.connect({ url: sim().url, username: sim().username, password: sim().password, thumbprint: sim().thumbprint });
    dc = await new Inventory(client).datacenter();
    const rows = await retrieveFromContainer<{ name: string }>(client, { container: dc.vmFolder, select: [{ type: 'VirtualMachine', paths: ['name'] }] });
    vms = rows.map((r) => ({ ref: r.ref, name: r.props.name })).sort((a, b) => a.name.localeCompare(b.name));
  });
  afterAll(async () => {
    await client?.close();
  });
  afterEach(async () => {
    await sim().control.clearFaults();
  });

  it('GIVEN 26 VMs and pages of 10 WHEN reading them through a container view THEN every VM comes back, over several pages', async () => {
    expect(vms).toHaveLength(2 * VMS_PER_POOL);
    client.stats.reset();
    const rows = await retrieveFromContainer<VmProps>(client, {
      container: dc.ref,
      select: [{ type: 'VirtualMachine', paths: ['name', 'runtime.powerState', 'config.extraConfig', 'config.hardware.device'] }],
      maxObjects: 10,
    });
    expect(rows).toHaveLength(26);
    expect(new Set(rows.map((r) => r.ref.value)).size).toBe(26);
    expect(client.stats.calls('RetrievePropertiesEx')).toBe(1);
    expect(client.stats.calls('ContinueRetrievePropertiesEx')).toBe(2);
    expect(client.stats.snapshot()).toEqual({ CreateContainerView: 1, RetrievePropertiesEx: 1, ContinueRetrievePropertiesEx: 2, DestroyView: 1 });
    const row = rows[0];
    // One extraConfig entry on a model VM: still an array, typed.
    expect(extraConfigOf(row.props['config.extraConfig'])).toMatchObject({ govcsim: 'TRUE' });
    expect(Array.isArray(row.props['config.hardware.device'])).toBe(true);
    expect(typeof row.props['config.hardware.device'][0].key).toBe('number');
    expect(['poweredOn', 'poweredOff']).toContain(row.props['runtime.powerState']);
  });

  it('GIVEN 1 and then 26 objects WHEN reading them in one batch THEN the number of round trips is the same', async () => {
    client.stats.reset();
    await retrieveObjects(client, [vms[0].ref], ['name']);
    const one = client.stats.total;
    client.stats.reset();
    const rows = await retrieveObjects(
      client,
      vms.map((v) => v.ref),
      ['name', 'summary.config.uuid'],
    );
    expect(rows).toHaveLength(26);
    expect(client.stats.total).toBe(one);
  });

  it('GIVEN a VM that was destroyed WHEN reading a batch that includes it THEN it is left out and the others come back', async () => {
    const victim = vms.pop()!;
    await powerOffVm(client, victim.ref).catch((err: unknown) => {
      if (!isInvalidPowerState(err)) throw err;
    });
    await destroyVm(client, victim.ref);
    const rows = await retrieveObjects(client, [victim.ref, vms[0].ref], ['name']);
    expect(rows.map((r) => r.ref.value)).toEqual([vms[0].ref.value]);
    await expect(retrieveObject(client, victim.ref, ['name'])).rejects.toThrow(NotFoundError);
    await expect(retrieveObject(client, victim.ref, ['name'])).rejects.toThrow(`VirtualMachine ${victim.ref.value} not found`);
  });

  it('GIVEN an injected task fault WHEN powering on THEN TaskFailedError carries the vSphere fault name, the task and the VM', async () => {
    const vm = vms[0].ref;
    await powerOffVm(client, vm).catch((err: unknown) => {
      if (!isInvalidPowerState(err)) throw err;
    });
    await sim().control.addFault({ method: 'PowerOnVM_Task', this: vm.value, kind: 'task', fault: 'InsufficientResourcesFault', message: 'not enough memory' });
    const err = await powerOnVm(client, vm).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    const failed = err as TaskFailedError;
    expect(failed.faultName).toBe('InsufficientResourcesFault');
    expect(failed.method).toBe('PowerOnVM_Task');
    expect(failed.object).toEqual(vm);
    expect(failed.task.type).toBe('Task');
    expect(failed.message).toContain('InsufficientResourcesFault');
    expect(failed.message).toContain(vm.value);
  });

  it('GIVEN a VM already powered on WHEN powering it on THEN the task fault is InvalidPowerState and the predicate says so', async () => {
    const vm = vms[1].ref;
    await powerOnVm(client, vm).catch(() => undefined);
    const err = await powerOnVm(client, vm).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).faultName).toBe('InvalidPowerState');
    expect(isInvalidPowerState(err)).toBe(true);
  });

  it('GIVEN a slow task WHEN awaiting it THEN it is looked at four times, then progress is reported through the collector and the result is typed', async () => {
    const vm = vms[2].ref;
    await powerOnVm(client, vm).catch(() => undefined);
    await sim().control.addFault({ method: 'PowerOffVM_Task', this: vm.value, kind: 'async', delayMs: 1000 });
    const progress: number[] = [];
    client.stats.reset();
    await runTask(client, 'PowerOffVM_Task', vm, {}, { onProgress: (p) => progress.push(p) });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[progress.length - 1]).toBe(100);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    // Four looks (at once, then after 10, 20 and 40 ms), then awaited by WaitForUpdatesEx: never polled.
    expect(client.stats.calls('RetrieveProperties')).toBe(4);
    expect(client.stats.calls('CreatePropertyCollector')).toBe(1);
    expect(client.stats.calls('WaitForUpdatesEx')).toBeGreaterThanOrEqual(1);
    expect(client.stats.calls('RetrievePropertiesEx')).toBe(0);
    const state = await retrieveObject<{ 'runtime.powerState': string }>(client, vm, ['runtime.powerState']);
    expect(state['runtime.powerState']).toBe('poweredOff');
  });

  it('GIVEN a filter on a VM WHEN it is powered on THEN WaitForUpdatesEx reports enter, then the change', async () => {
    const vm = vms[3].ref;
    await powerOffVm(client, vm).catch(() => undefined);
    const collector = await UpdateCollector.create(client);
    try {
      await collector.addFilter([vm], [{ type: 'VirtualMachine', paths: ['runtime.powerState'] }]);
      const first = await collector.waitForUpdates(5);
      expect(first?.objects).toEqual([{ kind: 'enter', obj: vm, changeSet: [{ name: 'runtime.powerState', op: 'assign', val: 'poweredOff' }] }]);
      await powerOnVm(client, vm);
      const next = await collector.waitForUpdates(5);
      expect(next?.objects[0]).toMatchObject({ kind: 'modify', obj: vm, changeSet: [{ name: 'runtime.powerState', val: 'poweredOn' }] });
    } finally {
      await collector.destroy();
    }
  });
});
