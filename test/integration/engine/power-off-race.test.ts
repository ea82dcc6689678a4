/**
 * A resize powers the container VM off first. When the VM goes off by another hand between the
 * plan's read and that power-off (the power-off of a run killed a moment before, finishing now),
 * vSphere refuses the second power-off as InvalidPowerState: the VM is off, as the resize needs,
 * so the apply goes on instead of failing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { moRef, type VimClient } from '../../../src/vsphere';
import { retrieveObject } from '../../../src/vsphere/property-collector';
import { powerOffVm } from '../../../src/vsphere/virtual-machine';
import { applied, connectTestClient, connectTestEngine, vchWithImage } from '../../helpers/engine';
import { HELLO_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('container_vm resize while the VM goes off by another hand', () => {
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
    scratch = await mkdtemp(join(tmpdir(), 'vic-power-race-'));
    await registry().pushImage(HELLO_IMAGE, 'test/race:v1');
    ({ vch, img } = await vchWithImage(engine, 'vch-race', `${registry().host}/test/race:v1`));
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('GIVEN a running container VM planned for more memory WHEN it is powered off outside while the apply power-off is on its way THEN the apply resizes it and runs it again', async () => {
    const config: Attrs = { vch_id: String(vch.id), image_id: String(img.id), name: 'race', power_state: 'running', memory_mb: 256 };
    const web = await applied(engine, await engine.plan('container_vm', null, config));
    const ref = moRef('VirtualMachine', String(web.moid));
    const plan = await engine.plan('container_vm', web, { ...config, memory_mb: 512 });
    expect({ action: plan.action, problems: plan.problems }).toEqual({ action: 'update', problems: [] });

    // The apply's power-off waits at the simulator; the VM goes off by another hand meanwhile.
    const [rule] = await sim().control.addFault({ method: 'PowerOffVM_Task', this: ref.value, kind: 'delay', delayMs: 1500 });
    try {
      const applying = engine.apply(plan);
      for (let i = 0; i < 100 && !(await sim().control.faults()).some((r) => r.id === rule.id && (r.hits ?? 0) > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await powerOffVm(outside, ref);
      const state = await applying;
      expect({ memory_mb: state?.memory_mb, power_state: state?.power_state }).toEqual({ memory_mb: 512, power_state: 'running' });
    } finally {
      await sim().control.clearFaults();
    }
    const props = await retrieveObject<{ 'config.hardware.memoryMB': number; 'runtime.powerState': string }>(outside, ref, [
      'config.hardware.memoryMB',
      'runtime.powerState',
    ]);
    expect(props).toEqual({ 'config.hardware.memoryMB': 512, 'runtime.powerState': 'poweredOn' });
  });
});
