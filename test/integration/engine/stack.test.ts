/**
 * A stack through the engine: references order the work, a second plan is empty, a resource left
 * out of the spec is deleted, and an apply killed (SIGKILL, a real process) between CreateVM and
 * PowerOn converges on the next run with exactly one VM.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyStack, planStack, EMPTY_STATE, type Engine, type StackResource, type StackState } from '../../../src/engine';
import { UNKNOWN } from '../../../src/resources';
import { VimClient } from '../../../src/vsphere';
import { retrieveFromContainer } from '../../../src/vsphere/property-collector';
import { HELLO_IMAGE } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';
import { ageVmsNamed, connectTestClient, connectTestEngine, vsphereEnv } from '../../helpers/engine';

const ROOT = join(__dirname, '../../..');

describe('stack plan and apply', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  let engine: Engine;
  let outside: VimClient;
  let scratch: string;
  let spec: StackResource[];
  let state: StackState = EMPTY_STATE;

  beforeAll(async () => {
    engine = await connectTestEngine(sim());
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-stack-test-'));
    await registry().pushImage(HELLO_IMAGE, 'test/hello:v1');
    spec = [
      { type: 'container_vm', name: 'web', config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.hello.id}', name: 'web' } },
      {
        type: 'container_vm',
        name: 'worker',
        config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.hello.id}', name: 'worker', power_state: 'stopped' },
      },
      {
        type: 'image',
        name: 'hello',
        config: { vch_id: '${virtual_container_host.demo.id}', reference: `${registry().host}/test/hello:v1`, insecure_registry: true },
      },
      {
        type: 'virtual_container_host',
        name: 'demo',
        config: { name: 'vch-stack', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' },
      },
    ];
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  async function vmsNamed(name: string): Promise<Array<{ name: string; power: string }>> {
    const rows = await retrieveFromContainer<{ name: string; 'runtime.powerState': string }>(outside, {
      container: outside.serviceContent.rootFolder,
      select: [{ type: 'VirtualMachine', paths: ['name', 'runtime.powerState'] }],
    });
    return rows.filter((r) => r.props.name === name).map((r) => ({ name: r.props.name, power: r.props['runtime.powerState'] }));
  }

  it('GIVEN a spec with references WHEN planned THEN four creates whose references are not known yet', async () => {
    const plan = await planStack(engine, spec, state);
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => [c.address, c.change.action])).toEqual([
      ['container_vm.web', 'create'],
      ['container_vm.worker', 'create'],
      ['image.hello', 'create'],
      ['virtual_container_host.demo', 'create'],
    ]);
    expect(plan.changes[0].change.planned?.vch_id).toBe(UNKNOWN);
  });

  it('GIVEN the plan WHEN applied THEN dependencies go first and the state holds all four; a second plan is empty', async () => {
    const order: string[] = [];
    const plan = await planStack(engine, spec, state);
    state = await applyStack(engine, plan, spec, { onResource: (a, e) => e === 'done' && order.push(a) });
    expect(order.slice(0, 2)).toEqual(['virtual_container_host.demo', 'image.hello']);
    expect(Object.keys(state.resources).sort()).toEqual(['container_vm.web', 'container_vm.worker', 'image.hello', 'virtual_container_host.demo']);
    expect([...state.resources['container_vm.web'].dependsOn].sort()).toEqual(['image.hello', 'virtual_container_host.demo']);
    const again = await planStack(engine, spec, state);
    expect(again.changes.map((c) => c.change.action)).toEqual(['no-op', 'no-op', 'no-op', 'no-op']);
  });

  it('GIVEN the applied stack WHEN the image is renamed in the spec THEN the plan knows its new address resolves to the same digest: no container VM is replaced, and applied they are the same VMs', async () => {
    const rename = (from: string, to: string) =>
      spec.map((r) =>
        r.type === 'image'
          ? { ...r, name: to }
          : { ...r, config: JSON.parse(JSON.stringify(r.config).split(`\${image.${from}.id}`).join(`\${image.${to}.id}`)) },
      );
    // Each command in an engine of its own, as the vic CLI runs them.
    const command = async <T>(run: (e: Engine) => Promise<T>): Promise<T> => {
      const e = await connectTestEngine(sim());
      try {
        return await run(e);
      } finally {
        await e.close();
      }
    };
    const actions = (s: StackResource[]) => command(async (e) => (await planStack(e, s, state)).changes.map((c) => c.change.action));
    const renamed = rename('hello', 'hello2');
    const web = state.resources['container_vm.web'].attrs.moid;
    state = await command(async (e) => {
      const plan = await planStack(e, renamed, state);
      expect(plan.problems).toEqual([]);
      // Before: both container VMs were replaced, their image_id "known after apply".
      expect(Object.fromEntries(plan.changes.map((c) => [c.address, c.change.action]))).toEqual({
        'container_vm.web': 'no-op',
        'container_vm.worker': 'no-op',
        'image.hello2': 'create',
        'virtual_container_host.demo': 'no-op',
        'image.hello': 'delete',
      });
      return applyStack(e, plan, renamed);
    });
    expect(state.resources['container_vm.web'].attrs.moid).toBe(web);
    expect(await actions(renamed)).toEqual(['no-op', 'no-op', 'no-op', 'no-op']);
    state = await command(async (e) => applyStack(e, await planStack(e, spec, state), spec));
    expect(await actions(spec)).toEqual(['no-op', 'no-op', 'no-op', 'no-op']);
    expect(state.resources['container_vm.web'].attrs.moid).toBe(web);
  });

  it('GIVEN a new volume mounted read-write by one new running container VM and read-only by another WHEN planned THEN the plan refuses it (the volume id is known at plan), before anything is made', async () => {
    const mount = (name: string, readOnly: boolean): StackResource => ({
      type: 'container_vm',
      name,
      config: {
        vch_id: '${virtual_container_host.demo.id}',
        image_id: '${image.hello.id}',
        name,
        volumes: [{ volume_id: '${volume.shared.id}', path: '/data', read_only: readOnly }],
      },
    });
    const volume: StackResource = { type: 'volume', name: 'shared', config: { vch_id: '${virtual_container_host.demo.id}', name: 'shared', size_mb: 32 } };
    const e = await connectTestEngine(sim());
    try {
      const plan = await planStack(e, [...spec, volume, mount('reader', true), mount('writer', false)], state);
      // Before: planned without a problem, and the apply failed midway, after the volume and the reader were made.
      expect(plan.problems.map((p) => [p.address, p.summary])).toEqual([
        [expect.stringMatching(/^container_vm\.(reader|writer)$/), 'Volume mounted by two running container VMs'],
      ]);
    } finally {
      await e.close();
    }
  });

  it('GIVEN the applied stack WHEN a second image names the same digest by @sha256 THEN the plan fails naming both addresses, both references and the digest; without it the plan is empty again', async () => {
    const digest = String(state.resources['image.hello'].attrs.id);
    const pinned: StackResource = {
      type: 'image',
      name: 'pinned',
      config: { vch_id: '${virtual_container_host.demo.id}', reference: `${registry().host}/test/hello@${digest}`, insecure_registry: true },
    };
    const plan = await planStack(engine, [...spec, pinned], state);
    expect(plan.problems.map((p) => [p.address, p.path.join('.'), p.summary])).toEqual([
      [expect.stringMatching(/^image\.(hello|pinned)$/), 'reference', 'Duplicate image'],
    ]);
    const [problem] = plan.problems;
    expect(problem.detail).toMatch(
      /^image\.(hello|pinned) \(reference = "[^"]+"\) and image\.(hello|pinned) \(reference = "[^"]+"\) both resolve to id = "sha256:[0-9a-f]{64}"/,
    );
    expect(problem.detail).toContain(`reference = "${registry().host}/test/hello:v1"`);
    expect(problem.detail).toContain(`reference = "${registry().host}/test/hello@${digest}"`);
    expect(problem.detail).toContain(`id = "${digest}"`);
    await expect(applyStack(engine, plan, [...spec, pinned])).rejects.toThrow(/Duplicate image|the plan has errors/);
    const again = await planStack(engine, spec, state);
    expect(again.problems).toEqual([]);
    expect(again.changes.map((c) => c.change.action)).toEqual(['no-op', 'no-op', 'no-op', 'no-op']);
  });

  it('GIVEN the applied stack WHEN a command of its own plans it THEN the refresh and the plan make 2 SOAP calls: the pool with its VMs, and the datacenters', async () => {
    const command = await connectTestEngine(sim());
    try {
      const client = (command as unknown as { client: VimClient }).client;
      const before = client.stats.snapshot();
      const plan = await planStack(command, spec, state);
      expect(plan.changes.map((c) => c.change.action)).toEqual(['no-op', 'no-op', 'no-op', 'no-op']);
      const after = client.stats.snapshot();
      // SOAP only: the image's plan also looks for its metadata and disk on the datastore (HTTP).
      const made = Object.fromEntries(
        Object.keys(after)
          .filter((m) => !m.startsWith('HTTP '))
          .map((m) => [m, after[m] - (before[m] ?? 0)])
          .filter(([, n]) => n !== 0),
      );
      // The VCH's marker comes with its pool row, into the command's memo: neither the VCH's plan
      // nor the image's reads it again (bench/README.md, row 1).
      expect(made).toEqual({ RetrievePropertiesEx: 2 });
    } finally {
      await command.close();
    }
  });

  it('GIVEN a resource removed from the spec WHEN planned and applied THEN it is deleted', async () => {
    const smaller = spec.filter((r) => r.name !== 'worker');
    const plan = await planStack(engine, smaller, state);
    expect(plan.changes.filter((c) => c.change.action !== 'no-op').map((c) => [c.address, c.change.action])).toEqual([['container_vm.worker', 'delete']]);
    state = await applyStack(engine, plan, smaller);
    expect(await vmsNamed('worker')).toEqual([]);
    spec = smaller;
  });

  it('GIVEN an apply killed between CreateVM and PowerOn WHEN run again THEN exactly one VM exists, powered on', async () => {
    const crashing: StackResource[] = [
      ...spec,
      { type: 'container_vm', name: 'crash', config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.hello.id}', name: 'crash-1' } },
    ];
    const specFile = join(scratch, 'spec.json');
    const stateFile = join(scratch, 'state.json');
    await writeFile(specFile, JSON.stringify(crashing));
    await writeFile(stateFile, JSON.stringify(state));
    const s = sim();
    const env = { ...process.env, ...vsphereEnv(s) };
    const [rule] = await s.control.addFault({ method: 'PowerOnVM_Task', kind: 'delay', delayMs: 8_000, times: 1 });

    // tsx as a loader inside ONE node process (its CLI would fork a child that outlives SIGKILL).
    const runApply = () =>
      spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/engine/apply-stack.ts'), specFile, stateFile], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    const first = runApply();
    const exited = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
    // PowerOn was called (so CreateVM finished): kill the apply for real, mid-flight.
    const deadline = Date.now() + 30_000;
    while (((await s.control.faults()).find((f) => f.id === rule.id)?.hits ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error('the apply never reached PowerOnVM_Task');
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill('SIGKILL');
    expect(await exited).toBeNull();
    expect(await vmsNamed('crash-1')).toEqual([{ name: 'crash-1', power: 'poweredOff' }]);
    const stateAfterCrash = JSON.parse(await readFile(stateFile, 'utf8')) as StackState;
    expect(stateAfterCrash.resources['container_vm.crash']).toBeUndefined();

    await s.control.clearFaults();
    // Run again a while later: the VM is older than a create's lease, no longer one another process may be making.
    expect(await ageVmsNamed(s, outside, 'crash-1')).toHaveLength(1);
    const second = runApply();
    let stderr = '';
    second.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.on('exit', (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(await vmsNamed('crash-1')).toEqual([{ name: 'crash-1', power: 'poweredOn' }]);
    const final = JSON.parse(await readFile(stateFile, 'utf8')) as StackState;
    expect(final.resources['container_vm.crash'].attrs).toMatchObject({ name: 'crash-1', power_state: 'running' });
  }, 90_000);
});
