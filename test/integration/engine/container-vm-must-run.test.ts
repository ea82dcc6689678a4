/**
 * container_vm `must_run`: a run-once container whose process ended (its VM powered off after it)
 * is no drift under must_run false and is powered on again under must_run true. No guest boots:
 * the guest's report is written into extraConfig as the tether (or the simulator's runner) writes
 * it, and the VM is powered off as the guest does after its process ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { STATUS_KEYS } from '../../../src/resources/container-vm.lifecycle';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { VimClient, moRef } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { powerOffVm, reconfigureVm } from '../../../src/vsphere/virtual-machine';
import { applied, connectTestClient, connectTestEngine } from '../../helpers/engine';
import { APP_IMAGE, writeOciLayout } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('container_vm must_run', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let vch: Attrs;
  let img: Attrs;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-mustrun-test-'));
    const layout = await writeOciLayout(join(scratch, 'once'), 'v1', [APP_IMAGE]);
    await registry().push(layout.dir, 'v1', 'test/once:v1');
    vch = await applied(
      engine,
      await engine.plan('virtual_container_host', null, { name: 'vch-mr', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' }),
    );
    img = await applied(engine, await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/test/once:v1`, insecure_registry: true }));
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** The guest's report of an ended process, where the tether (or the simulator's runner) writes it. */
  async function reportExit(state: Attrs, exitCode: number): Promise<void> {
    const now = new Date().toISOString();
    await reconfigureVm(outside, moRef('VirtualMachine', String(state.moid)), {
      extraConfig: { [STATUS_KEYS.status]: 'exited', [STATUS_KEYS.exitCode]: String(exitCode), [STATUS_KEYS.startedAt]: now, [STATUS_KEYS.finishedAt]: now },
    });
  }

  /** What the guest does when its process ends: it reports the exit, then powers its VM off. */
  async function processEnds(state: Attrs, exitCode: number): Promise<void> {
    await reportExit(state, exitCode);
    await powerOffVm(outside, moRef('VirtualMachine', String(state.moid)));
  }

  async function powerStateOf(state: Attrs): Promise<string> {
    const vm = await retrieveObject<{ 'runtime.powerState': string }>(outside, moRef('VirtualMachine', String(state.moid)), ['runtime.powerState']);
    return vm['runtime.powerState'];
  }

  async function refreshed(state: Attrs): Promise<Attrs> {
    const [read] = await engine.read([{ type: 'container_vm', state }]);
    if (!read) throw new Error(`container VM ${String(state.name)} is gone`);
    return read;
  }

  it('GIVEN must_run false and a process that exited WHEN refreshed and planned THEN no changes, and a labels change does not start it again', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'once-1', must_run: false, memory_mb: 128 };
    const created = await applied(engine, await engine.plan('container_vm', null, config));
    expect(created).toMatchObject({ power_state: 'running', must_run: false });
    expect(await powerStateOf(created)).toBe('poweredOn');

    await processEnds(created, 0);
    const read = await refreshed(created);
    expect(read).toMatchObject({ power_state: 'running', must_run: false, status: 'exited', exit_code: 0 });
    expect((await engine.plan('container_vm', read, config)).action).toBe('no-op');

    const relabelled = await applied(engine, await engine.plan('container_vm', read, { ...config, labels: { job: 'once' } }));
    expect(relabelled).toMatchObject({ power_state: 'running', status: 'exited', labels: { job: 'once' } });
    expect(await powerStateOf(created)).toBe('poweredOff');
  });

  it('GIVEN must_run true (the default) and a process that exited WHEN refreshed THEN the plan starts the VM; applied THEN it is powered on', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'always-1', memory_mb: 128 };
    const created = await applied(engine, await engine.plan('container_vm', null, config));
    expect(created.must_run).toBe(true);

    await processEnds(created, 1);
    const read = await refreshed(created);
    expect(read).toMatchObject({ power_state: 'stopped', status: 'exited', exit_code: 1 });
    const plan = await engine.plan('container_vm', read, config);
    expect(plan.action).toBe('update');
    expect(plan.reasons).toEqual(['power_state: "stopped" → "running"']);
    // Why, since it comes back at every plan while the process keeps ending (Terraform shows it as a warning).
    expect(plan.notes).toEqual([
      'the process of container VM "always-1" exited (1) and its VM powered off: must_run (true by default) starts it again at this apply. A process that keeps running settles; a run-once job sets must_run = false',
    ]);
    expect(await applied(engine, plan)).toMatchObject({ power_state: 'running' });
    expect(await powerStateOf(created)).toBe('poweredOn');
  });

  it('GIVEN an ended run-once container WHEN must_run becomes true THEN updated in place and powered on; the marker keeps it', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'flip-1', must_run: false, memory_mb: 128 };
    const created = await applied(engine, await engine.plan('container_vm', null, config));
    await processEnds(created, 0);
    const read = await refreshed(created);
    const plan = await engine.plan('container_vm', read, { ...config, must_run: true });
    expect(plan.action).toBe('update');
    expect(plan.reasons).toEqual(['must_run: false → true']);
    const updated = await applied(engine, plan);
    expect(updated).toMatchObject({ must_run: true, power_state: 'running', moid: created.moid });
    expect(await powerStateOf(created)).toBe('poweredOn');
    const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(created.moid)), ['config.extraConfig']);
    expect(JSON.parse(extraConfigMap(vm['config.extraConfig']).get('vic.spec') ?? '{}')).toMatchObject({ must_run: true });
    expect((await engine.plan('container_vm', await refreshed(updated), { ...config, must_run: true })).action).toBe('no-op');
  });

  it('GIVEN a run-once container the state had stopped WHEN power_state becomes running THEN it is started', async () => {
    const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'later-1', must_run: false, power_state: 'stopped', memory_mb: 128 };
    const created = await applied(engine, await engine.plan('container_vm', null, config));
    expect(await powerStateOf(created)).toBe('poweredOff');
    // An earlier run ended before the state stopped the VM: the guest's report stays.
    await reportExit(created, 0);
    const read = await refreshed(created);
    expect(read.power_state).toBe('stopped');
    const plan = await engine.plan('container_vm', read, { ...config, power_state: 'running' });
    expect(plan.reasons).toEqual(['power_state: "stopped" → "running"']);
    await applied(engine, plan);
    expect(await powerStateOf(created)).toBe('poweredOn');
  });

  it('GIVEN must_run that is not a bool WHEN planned THEN a problem names must_run, and nothing is created', async () => {
    const plan = await engine.plan('container_vm', null, { vch_id: vch.id, image_id: img.id, name: 'bad-1', must_run: 'sometimes' });
    expect(plan.problems.map((p) => p.path.join('.'))).toEqual(['must_run']);
    expect(plan.problems[0].detail).toMatch(/bool/);
    await expect(engine.apply(plan)).rejects.toThrow();
  });
});
