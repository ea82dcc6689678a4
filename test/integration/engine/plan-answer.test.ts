/**
 * A command over one VM (lookups 'each', as the Docker endpoint runs each request) plans a create
 * and applies it at once. The plan asked vSphere who holds the new VM's BIOS UUID (FindByUuid); the
 * create takes that answer when it is under a second old and said "nobody", instead of asking again
 * (LifecycleContext.planAnswer). An older answer, or one that found a VM, is asked again: what to
 * adopt or refuse is decided on what vSphere has now.
 */
import { VsphereEngine } from '../../../src/engine/engine';
import type { Attrs } from '../../../src/resources';
import { lifecycles } from '../../../src/resources/lifecycle-registry';
import { VimClient, type SoapLogEvent } from '../../../src/vsphere';
import { connectTestEngine, vchWithImage } from '../../helpers/engine';
import { HELLO_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('a create applied right after its plan in a command over one VM', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const calls: SoapLogEvent[] = [];
  let engine: VsphereEngine;
  let vch: Attrs;
  let img: Attrs;

  beforeAll(async () => {
    const setup = await connectTestEngine(sim());
    try {
      await registry().pushImage(HELLO_IMAGE, 'test/answer:v1');
      ({ vch, img } = await vchWithImage(setup, 'vch-answer', `${registry().host}/test/answer:v1`));
    } finally {
      await setup.close();
    }
    const client = await VimClient.connect({
      url: sim().url,
      username: sim().username,
      password: sim().password,
      thumbprint: sim().thumbprint,
      log: (e) => calls.push(e),
    });
    engine = new VsphereEngine(client, { lifecycles });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });

  const config = (name: string): Attrs => ({ vch_id: String(vch.id), image_id: String(img.id), name, power_state: 'stopped' });
  const asked = (method: string) => calls.filter((c) => c.method === method).length;

  /** Plans a create in a command of its own, waits `pauseMs`, applies it: the FindByUuid calls of plan and apply. */
  async function planThenApply(name: string, pauseMs: number): Promise<{ plan: number; apply: number; made: Attrs }> {
    const command = engine.forCommand({ lookups: 'each' });
    calls.length = 0;
    const plan = await command.plan('container_vm', null, config(name));
    expect(plan.problems).toEqual([]);
    const byPlan = asked('FindByUuid');
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    calls.length = 0;
    const made = (await command.apply(plan)) as Attrs;
    return { plan: byPlan, apply: asked('FindByUuid'), made };
  }

  it('GIVEN a plan that found no VM with the BIOS UUID WHEN the create is applied at once THEN it does not ask FindByUuid again, and makes the VM', async () => {
    const { plan, apply, made } = await planThenApply('answered', 0);
    expect({ plan, apply }).toEqual({ plan: 1, apply: 0 });
    expect(asked('CreateVM_Task')).toBe(1);
    const [read] = await engine.forCommand().read([{ type: 'container_vm', state: made }]);
    expect(read?.moid).toBe(made.moid);
  });

  it('GIVEN a plan that found no VM with the BIOS UUID WHEN the create is applied 1.5 s later THEN it asks FindByUuid again', async () => {
    const { plan, apply } = await planThenApply('asked-again', 1500);
    expect({ plan, apply }).toEqual({ plan: 1, apply: 1 });
  });

  it('GIVEN the VM of a create that stopped before it was marked done WHEN a create of its name is planned and applied at once THEN the create looks it up again and adopts it: no second VM', async () => {
    // The mark fails once (a non-transient fault): the VM stays, marked pending, as a killed create leaves it.
    await sim().control.addFault({ method: 'SetField', kind: 'soap', fault: 'InvalidArgument', times: 1 });
    const first = engine.forCommand({ lookups: 'each' });
    await expect(first.apply(await first.plan('container_vm', null, config('left')))).rejects.toThrow();
    await sim().control.clearFaults();

    const command = engine.forCommand({ lookups: 'each' });
    calls.length = 0;
    const plan = await command.plan('container_vm', null, config('left'));
    expect({ problems: plan.problems, notes: plan.notes }).toEqual({
      problems: [],
      notes: [expect.stringContaining('will be adopted, not duplicated') as unknown],
    });
    calls.length = 0;
    const adopted = (await command.apply(plan)) as Attrs;
    expect({ findByUuid: asked('FindByUuid'), creates: asked('CreateVM_Task') }).toEqual({ findByUuid: 1, creates: 0 });
    const listed = (await engine.forCommand().listIn('container_vm', String(vch.id))).filter((vm) => vm.name === 'left');
    expect(listed.map((vm) => vm.moid)).toEqual([adopted.moid]);
  });
});
