/**
 * Two processes create one container VM name in one VCH at once (two Docker endpoints, an endpoint
 * and `vic apply`, two Terraform workspaces): here two engines, each with its own vSphere session
 * and memos, against the simulator. The BIOS UUID comes from (VCH, name), so the second create finds
 * the first one's VM, still marked pending. Taken for a killed create's leftover and adopted, both
 * creates succeeded with one VM. A pending VM younger than the lease (on the server's clock) is
 * waited for instead: its create finishing refuses the second one. A leftover older than the lease,
 * or one its create gave up, is still adopted at once.
 */
import { writeFile } from 'node:fs/promises';
import type { Engine, ProgressEvent } from '../../../src/engine';
import type { Attrs } from '../../../src/resources';
import { CREATE_LEASE_MS, containerVmUuid } from '../../../src/resources/container-vm.lifecycle';
import { retrieveFromContainer } from '../../../src/vsphere/property-collector';
import { Inventory } from '../../../src/vsphere/inventory';
import { moRef, type VimClient } from '../../../src/vsphere';
import { destroyVm } from '../../../src/vsphere/virtual-machine';
import { runVic, useVicProject } from '../../cli/run-vic';
import { connectTestClient, connectTestEngine, vchWithImage } from '../../helpers/engine';
import { HELLO_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';

describe('two processes creating one container VM name at once', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const project = useVicProject(sim, 'vic-race-');
  let outside: VimClient;
  let vch: Attrs;
  let img: Attrs;
  const engines: Engine[] = [];

  beforeAll(async () => {
    outside = await connectTestClient(sim());
    const setup = await connectTestEngine(sim());
    try {
      await registry().pushImage(HELLO_IMAGE, 'test/race:v1');
      ({ vch, img } = await vchWithImage(setup, 'vch-race', `${registry().host}/test/race:v1`));
    } finally {
      await setup.close();
    }
  }, 120_000);
  afterEach(async () => {
    await sim().control.clearFaults();
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  afterAll(async () => {
    await outside?.close();
  });

  /** A "process": an engine with its own session, closed after the test. */
  async function newProcess(): Promise<Engine> {
    const engine = await connectTestEngine(sim());
    engines.push(engine);
    return engine;
  }

  const config = (name: string): Attrs => ({ vch_id: String(vch.id), image_id: String(img.id), name, power_state: 'stopped' });

  /** Plans and applies a create of `name` in `engine`, recording its progress lines. */
  async function create(engine: Engine, name: string, progress: string[] = [], change: Attrs = {}): Promise<Attrs> {
    const plan = await engine.plan('container_vm', null, { ...config(name), ...change });
    expect(plan.problems).toEqual([]);
    return (await engine.apply(plan, { onProgress: (e: ProgressEvent) => progress.push(e.phase) })) as Attrs;
  }

  /** The MOIDs of the VMs named `name` anywhere in the simulator. */
  async function vmsNamed(name: string): Promise<string[]> {
    const rows = await retrieveFromContainer<{ name: string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name'] }],
    });
    return rows.filter((r) => r.props.name === name).map((r) => r.ref.value);
  }

  /** The VM with the BIOS UUID of container VM `name`, once it exists (polled). */
  async function vmOnceMade(name: string, withinMs = 20_000): Promise<string> {
    const uuid = containerVmUuid(String(vch.id), name);
    const inventory = new Inventory(outside);
    for (const deadline = Date.now() + withinMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const ref = await inventory.findVmByUuid(uuid);
      if (ref) return ref.value;
    }
    throw new Error(`no VM with BIOS UUID ${uuid} (container VM "${name}") within ${withinMs} ms`);
  }

  /** Leaves the VM of a create that was killed after CreateVM: marked pending, never done nor abandoned. */
  async function killedCreate(name: string): Promise<string> {
    // The mark and the abandonment (both SetField) fail, as if the process died between CreateVM and them.
    await sim().control.addFault({ method: 'SetField', kind: 'soap', fault: 'InvalidArgument', times: 2 });
    await expect(create(await newProcess(), name)).rejects.toThrow();
    await sim().control.clearFaults();
    const [moid] = await vmsNamed(name);
    return moid;
  }

  it('GIVEN process A between CreateVM and its mark WHEN process B creates the same name THEN B waits, A succeeds, B is refused as created by another process, and there is one VM', async () => {
    const [a, b] = [await newProcess(), await newProcess()];
    // A's mark (SetField) is held for 4 s: its VM exists, pending, for that long.
    await sim().control.addFault({ method: 'SetField', kind: 'delay', delayMs: 4000, times: 1 });
    const madeByA = create(a, 'raced');
    madeByA.catch(() => undefined);
    const moid = await vmOnceMade('raced');

    const plan = await b.plan('container_vm', null, config('raced'));
    expect(plan.problems).toEqual([]);
    expect(plan.notes).toEqual([
      expect.stringMatching(/made by a create that has not finished .*another process may be creating this name now.*if it finishes, this one fails/),
    ]);
    const progress: string[] = [];
    const byB = b.apply(plan, { onProgress: (e) => progress.push(e.phase) });
    await expect(byB).rejects.toThrow(
      /container VM "raced" in VCH resgroup-\d+ was created by another process at the same time \(vm-\d+, created at .*\), and that create finished first/,
    );
    await expect(byB).rejects.toMatchObject({ problems: [expect.objectContaining({ path: ['name'], summary: 'Container VM held by another resource' })] });
    expect(progress).toContainEqual(
      expect.stringMatching(new RegExp(`^waiting for VM ${moid}, made by another create of "raced" at \\S+, to finish \\(up to \\d+ s\\), then adopting it$`)),
    );
    expect((await madeByA).moid).toBe(moid);
    expect(await vmsNamed('raced')).toEqual([moid]);
  }, 60_000);

  it('GIVEN process A between CreateVM and its mark WHEN `vic apply` (a process of its own) creates the same name THEN it says it waits, then fails naming the other process; A succeeds, one VM', async () => {
    const a = await newProcess();
    await writeFile(
      project().specFile,
      `container_vm:\n  same:\n    vch_id: ${String(vch.id)}\n    image_id: "${String(img.id)}"\n    name: applied\n    power_state: stopped\n`,
    );
    await sim().control.addFault({ method: 'SetField', kind: 'delay', delayMs: 4000, times: 1 });
    const madeByA = create(a, 'applied');
    madeByA.catch(() => undefined);
    const moid = await vmOnceMade('applied');
    const apply = await runVic(['apply', '-f', project().specFile, '-y'], project().env, { timeoutMs: 120_000 });
    expect(apply.stdout).toMatch(
      new RegExp(`container_vm\\.same: waiting for VM ${moid}, made by another create of "applied" at \\S+, to finish \\(up to \\d+ s\\), then adopting it`),
    );
    expect({ code: apply.code, stderr: apply.stderr }).toEqual({
      code: 1,
      stderr: expect.stringMatching(
        /container VM "applied" in VCH resgroup-\d+ was created by another process at the same time \(vm-\d+, created at .*\), and that create finished first/,
      ) as unknown,
    });
    expect((await madeByA).moid).toBe(moid);
    expect(await vmsNamed('applied')).toEqual([moid]);
  }, 120_000);

  it("GIVEN process B whose CreateVM reaches vSphere after process A made its VM of the same name WHEN A finishes THEN B, refused as a duplicate, does not take A's VM for its own: refused as created by another process", async () => {
    const [a, b] = [await newProcess(), await newProcess()];
    // B's CreateVM waits 6 s before the simulator handles it; A, started meanwhile, makes its VM
    // first and holds its mark until after B's CreateVM was refused (FileAlreadyExists: A's .vmx).
    const [held] = await sim().control.addFault({ method: 'CreateVM_Task', kind: 'delay', delayMs: 6000, times: 1 });
    const byB = create(b, 'second');
    byB.catch(() => undefined);
    for (let hits = 0; hits === 0; await new Promise((r) => setTimeout(r, 50))) hits = (await sim().control.faults()).find((r) => r.id === held.id)?.hits ?? 0;
    await sim().control.addFault({ method: 'SetField', kind: 'delay', delayMs: 9000, times: 1 });
    const madeByA = create(a, 'second');
    madeByA.catch(() => undefined);
    const moid = await vmOnceMade('second');
    await expect(byB).rejects.toThrow(/container VM "second" in VCH resgroup-\d+ was created by another process at the same time/);
    expect((await madeByA).moid).toBe(moid);
    expect(await vmsNamed('second')).toEqual([moid]);
  }, 60_000);

  it('GIVEN the VM of a create killed longer ago than the lease WHEN another process creates its name THEN the plan promises adoption and the create adopts it at once: no second VM', async () => {
    const moid = await killedCreate('killed-long-ago');
    await sim().control.setCreateAge(moid, CREATE_LEASE_MS + 5_000);
    const b = await newProcess();
    const plan = await b.plan('container_vm', null, config('killed-long-ago'));
    expect(plan.notes).toEqual([
      `container VM "killed-long-ago" already exists as ${moid} (an earlier apply stopped midway); it will be adopted, not duplicated`,
    ]);
    const started = Date.now();
    const progress: string[] = [];
    const adopted = (await b.apply(plan, { onProgress: (e) => progress.push(e.phase) })) as Attrs;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(progress).not.toContainEqual(expect.stringMatching(/^waiting/));
    expect(adopted.moid).toBe(moid);
    expect(await vmsNamed('killed-long-ago')).toEqual([moid]);
  }, 60_000);

  it('GIVEN the VM of a create killed 3 s short of the lease WHEN another process creates its name THEN it waits out the rest of the lease, then adopts it', async () => {
    const moid = await killedCreate('killed-just-now');
    await sim().control.setCreateAge(moid, CREATE_LEASE_MS - 3_000);
    const progress: string[] = [];
    const started = Date.now();
    const adopted = await create(await newProcess(), 'killed-just-now', progress);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(progress).toContainEqual(
      expect.stringMatching(/^waiting for VM vm-\d+, made by another create of "killed-just-now" at \S+, to finish \(up to 3 s\), then adopting it$/),
    );
    expect(adopted.moid).toBe(moid);
    expect(await vmsNamed('killed-just-now')).toEqual([moid]);
  }, 60_000);

  it('GIVEN a pending VM of another create WHEN it is removed while a create of its name waits for it THEN that create makes a VM of its own', async () => {
    const moid = await killedCreate('removed-meanwhile');
    const progress: string[] = [];
    const made = create(await newProcess(), 'removed-meanwhile', progress);
    made.catch(() => undefined);
    for (let i = 0; i < 200 && !progress.some((p) => p.startsWith('waiting for VM')); i++) await new Promise((r) => setTimeout(r, 50));
    await destroyVm(outside, moRef('VirtualMachine', moid));
    const vm = await made;
    expect(vm.moid).not.toBe(moid);
    expect(await vmsNamed('removed-meanwhile')).toEqual([vm.moid]);
  }, 60_000);

  it('GIVEN a create whose power-on failed after CreateVM (it marks its VM abandoned) WHEN another process creates its name at once THEN it adopts the VM without waiting', async () => {
    await sim().control.addFault({ method: 'PowerOnVM_Task', kind: 'task', fault: 'InsufficientResourcesFault', times: 1 });
    await expect(create(await newProcess(), 'gave-up-on', [], { power_state: 'running' })).rejects.toThrow(/InsufficientResources/);
    const [moid] = await vmsNamed('gave-up-on');
    const started = Date.now();
    const adopted = await (async () => {
      const b = await newProcess();
      const plan = await b.plan('container_vm', null, { ...config('gave-up-on'), power_state: 'running' });
      expect(plan.notes).toEqual([expect.stringContaining('it will be adopted, not duplicated')]);
      return (await b.apply(plan)) as Attrs;
    })();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(adopted).toMatchObject({ moid, power_state: 'running' });
    expect(await vmsNamed('gave-up-on')).toEqual([moid]);
  }, 60_000);
});
