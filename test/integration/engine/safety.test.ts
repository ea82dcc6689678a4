/**
 * The safety round, through the engine against the simulator and real registries, one fresh engine
 * per command as every front end uses: a moved tag converges (the image is replaced new-first, its
 * container VMs move, the old image goes once unused), two container VMs cannot share one name in a
 * VCH (refused at plan; an apply never takes over a VM another resource holds), and what is wrong
 * with an image reference shows at plan time even while the VCH is still unknown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyStack, planStack, type StackResource, type StackState, EMPTY_STATE } from '../../../src/engine';
import type { Engine, PlannedChange } from '../../../src/engine';
import { UNKNOWN, type Attrs } from '../../../src/resources';
import { VimClient, customFieldsOf, listCustomFieldDefs, moRef, reconfigureVm, setCustomField } from '../../../src/vsphere';
import { retrieveFromContainer, retrieveObject } from '../../../src/vsphere/property-collector';
import { extraConfigMap } from '../../../src/resources/snapshot';
import { multiPlatformImages, versionedImage } from '../../fixtures/images/test-images';
import { writeOciLayout } from '../../helpers/oci-layout';
import { useRegistry } from '../../helpers/registry';
import { useSimulator } from '../../helpers/vcsim';
import { connectTestClient, connectTestEngine } from '../../helpers/engine';

const AUTH = { username: 'puller', password: 'Reg-S3cret!' };
const WRONG_PASSWORD = 'Not-The-Pass-42';

describe('safety: moved tags, duplicate names, plan-time image errors', () => {
  const sim = useSimulator();
  const registry = useRegistry();
  const privateRegistry = useRegistry({ basicAuth: AUTH });
  let outside: VimClient;
  let scratch: string;
  let pushes = 0;

  /** Pushes a new image (its content names `version`) under `repo:tag`. */
  async function pushVersion(repo: string, tag: string, version: string, to = registry()): Promise<void> {
    const layout = await writeOciLayout(join(scratch, `v${++pushes}`), tag, [versionedImage(version)]);
    await to.push(layout.dir, tag, `${repo}:${tag}`);
  }

  /** One command: a fresh engine, closed afterwards. */
  async function command<T>(run: (engine: Engine) => Promise<T>): Promise<T> {
    const engine = await connectTestEngine(sim());
    try {
      return await run(engine);
    } finally {
      await engine.close();
    }
  }

  async function vmExtraConfig(moid: string): Promise<Map<string, string>> {
    const vm = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', moid), ['config.extraConfig']);
    return extraConfigMap(vm['config.extraConfig']);
  }

  beforeAll(async () => {
    outside = await connectTestClient(sim());
    scratch = await mkdtemp(join(tmpdir(), 'vic-safety-test-'));
  }, 60_000);
  afterAll(async () => {
    await outside?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe('a moved tag, through the stack (the vic CLI path)', () => {
    let spec: StackResource[];
    let state: StackState = EMPTY_STATE;

    beforeAll(async () => {
      await pushVersion('moving/app', 'v1', 'one');
      spec = [
        {
          type: 'virtual_container_host',
          name: 'demo',
          config: { name: 'vch-moving', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' },
        },
        {
          type: 'image',
          name: 'app',
          config: { vch_id: '${virtual_container_host.demo.id}', reference: `${registry().host}/moving/app:v1`, insecure_registry: true },
        },
        { type: 'container_vm', name: 'web', config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.app.id}', name: 'moving-web' } },
      ];
      state = await command(async (engine) => applyStack(engine, await planStack(engine, spec, state), spec));
    }, 120_000);

    it('GIVEN an image and a container VM on tag v1 WHEN another image is pushed to v1 and the stack planned THEN the image is replaced for the new digest, known at plan, and the VM with it', async () => {
      const before = state.resources['image.app'].attrs;
      await pushVersion('moving/app', 'v1', 'two');
      const plan = await command((engine) => planStack(engine, spec, state));
      expect(plan.problems).toEqual([]);
      const image = plan.changes.find((c) => c.address === 'image.app')!.change;
      expect(image.action).toBe('replace');
      expect(image.requiresReplace).toEqual([['digest']]);
      expect(image.planned?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(image.planned?.digest).not.toBe(before.digest);
      expect(image.planned?.id).toBe(image.planned?.digest);
      expect(image.createBeforeDestroy).toBe(true);
      expect(plan.changes.find((c) => c.address === 'container_vm.web')!.change.action).toBe('replace');
    });

    it('WHEN applied THEN the image has the new digest, the VM runs on it, the old image was deleted only after the VM moved, and the next plan has no changes', async () => {
      const old = state.resources['image.app'].attrs;
      const events: string[] = [];
      state = await command(async (engine) =>
        applyStack(engine, await planStack(engine, spec, state), spec, { onResource: (address, event) => event === 'done' && events.push(address) }),
      );
      const image = state.resources['image.app'].attrs;
      const vm = state.resources['container_vm.web'].attrs;
      expect(image.digest).not.toBe(old.digest);
      expect(vm.image_id).toBe(image.id);
      expect((await vmExtraConfig(String(vm.moid))).get('vic.image')).toBe(image.id);
      expect(events.indexOf('image.app#replaced')).toBeGreaterThan(events.indexOf('container_vm.web'));
      expect(Object.keys(state.resources).sort()).toEqual(['container_vm.web', 'image.app', 'virtual_container_host.demo']);
      const [gone] = await command((engine) => engine.read([{ type: 'image', state: old }]));
      expect(gone).toBeNull();
      const again = await command((engine) => planStack(engine, spec, state));
      expect(again.problems).toEqual([]);
      expect(again.changes.map((c) => [c.address, c.change.action])).toEqual([
        ['virtual_container_host.demo', 'no-op'],
        ['image.app', 'no-op'],
        ['container_vm.web', 'no-op'],
      ]);
    }, 120_000);

    it('GIVEN the reference changed to another tag of the same digest WHEN planned THEN an in-place update, nothing pulled or replaced', async () => {
      const image = state.resources['image.app'].attrs;
      await pushVersion('moving/app', 'same', 'two');
      const renamed = spec.map((r) => (r.name === 'app' ? { ...r, config: { ...r.config, reference: `${registry().host}/moving/app:same` } } : r));
      const plan = await command((engine) => planStack(engine, renamed, state));
      expect(plan.changes.map((c) => [c.address, c.change.action])).toEqual([
        ['virtual_container_host.demo', 'no-op'],
        ['image.app', 'update'],
        ['container_vm.web', 'no-op'],
      ]);
      expect(plan.changes[1].change.reasons).toEqual([
        `reference: ${String(image.reference)} → ${registry().host}/moving/app:same (the same digest ${String(image.digest)}: nothing to pull)`,
      ]);
    });
  });

  describe('a destroy-first replacement with dependents, through the stack', () => {
    it('GIVEN a VCH with an image and a container VM WHEN the VCH is renamed THEN all three are replaced: deleted from the VM up, made again from the VCH down, and the next plan has no changes', async () => {
      await pushVersion('rename/app', 'v1', 'one');
      const make = (vchName: string): StackResource[] => [
        {
          type: 'virtual_container_host',
          name: 'demo',
          config: { name: vchName, compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' },
        },
        {
          type: 'image',
          name: 'app',
          config: { vch_id: '${virtual_container_host.demo.id}', reference: `${registry().host}/rename/app:v1`, insecure_registry: true },
        },
        { type: 'container_vm', name: 'web', config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.app.id}', name: 'rename-web' } },
      ];
      let state = await command(async (engine) => applyStack(engine, await planStack(engine, make('vch-before'), EMPTY_STATE), make('vch-before')));
      const before = state.resources;
      const spec = make('vch-after');
      const plan = await command((engine) => planStack(engine, spec, state));
      expect(plan.problems).toEqual([]);
      expect(plan.changes.map((c) => [c.address, c.change.action, Boolean(c.change.createBeforeDestroy)])).toEqual([
        ['virtual_container_host.demo', 'replace', false],
        ['image.app', 'replace', false],
        ['container_vm.web', 'replace', false],
      ]);
      const events: string[] = [];
      state = await command((engine) => applyStack(engine, plan, spec, { onResource: (address, event) => event === 'done' && events.push(address) }));
      expect(events).toEqual([
        'container_vm.web#replaced',
        'image.app#replaced',
        'virtual_container_host.demo#replaced',
        'virtual_container_host.demo',
        'image.app',
        'container_vm.web',
      ]);
      expect(Object.keys(state.resources).sort()).toEqual(['container_vm.web', 'image.app', 'virtual_container_host.demo']);
      const vch = state.resources['virtual_container_host.demo'].attrs;
      expect(vch.id).not.toBe(before['virtual_container_host.demo'].attrs.id);
      expect(state.resources['image.app'].attrs.vch_id).toBe(vch.id);
      expect(state.resources['container_vm.web'].attrs.vch_id).toBe(vch.id);
      expect(await command((engine) => engine.read([{ type: 'virtual_container_host', state: before['virtual_container_host.demo'].attrs }]))).toEqual([null]);
      const again = await command((engine) => planStack(engine, spec, state));
      expect(again.changes.map((c) => c.change.action)).toEqual(['no-op', 'no-op', 'no-op']);
    }, 180_000);
  });

  describe('two container VMs with one name', () => {
    let vch: Attrs;
    let img: Attrs;

    beforeAll(async () => {
      await pushVersion('dup/app', 'v1', 'dup');
      await command(async (engine) => {
        vch = (await engine.apply(
          await engine.plan('virtual_container_host', null, {
            name: 'vch-dup',
            compute: '/DC0/host/DC0_C0',
            datastore: 'LocalDS_0',
            bridge_network: 'VM Network',
          }),
        )) as Attrs;
        img = (await engine.apply(
          await engine.plan('image', null, { vch_id: vch.id, reference: `${registry().host}/dup/app:v1`, insecure_registry: true }),
        )) as Attrs;
      });
    }, 120_000);

    const MISSING_IMAGE = `sha256:${'e'.repeat(64)}`;
    it.each<[string, () => Attrs, Array<[string, string]>]>([
      [
        'a VCH not created yet and a network no datacenter has',
        () => ({ vch_id: UNKNOWN, image_id: img.id, name: 'early', networks: ['VM Network', 'No Such Net'] }),
        [['networks.1', 'Cannot resolve "networks"']],
      ],
      ['a VCH not created yet and a network of the simulator', () => ({ vch_id: UNKNOWN, image_id: UNKNOWN, name: UNKNOWN, networks: ['VM Network'] }), []],
      [
        'a name known only at apply and an image missing from the store',
        () => ({ vch_id: vch.id, image_id: MISSING_IMAGE, name: UNKNOWN }),
        [['image_id', 'Cannot resolve "image_id"']],
      ],
      [
        'a name known only at apply and a missing network',
        () => ({ vch_id: vch.id, image_id: img.id, name: UNKNOWN, networks: ['No Such Net'] }),
        [['networks.0', 'Cannot resolve "networks"']],
      ],
      [
        'an image known only at apply and a missing VCH',
        () => ({ vch_id: 'resgroup-424242', image_id: UNKNOWN, name: 'early' }),
        [['vch_id', 'Cannot resolve "vch_id"']],
      ],
    ])('GIVEN %s WHEN a container VM is planned THEN the plan checks what is known', async (_label, make, expected) => {
      const plan = await command((engine) => engine.plan('container_vm', null, make()));
      expect(plan.problems.map((p) => [p.path.join('.'), p.summary])).toEqual(expected);
      if (expected[0]?.[0] === 'networks.1')
        expect(plan.problems[0].detail).toMatch(
          /^network "No Such Net" not found in any datacenter \(looked in DC0\); the virtual container host is not created yet/,
        );
    });

    it('GIVEN two resources planning one (VCH, name) in one command WHEN planned THEN the second is refused on name; a third name is fine', async () => {
      const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'twin' };
      const [first, second, other] = await command(async (engine) => [
        await engine.plan('container_vm', null, config),
        await engine.plan('container_vm', null, config),
        await engine.plan('container_vm', null, { ...config, name: 'single' }),
      ]);
      expect(first.problems).toEqual([]);
      expect(other.problems).toEqual([]);
      expect(second.problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['name', 'Duplicate container_vm']]);
      expect(second.problems[0].detail).toBe(
        `another container_vm resource (one this plan creates) and this one both declare vch_id = "${String(vch.id)}" and name = "twin"; the two would share one vSphere object, and deleting either would delete it for both. Give each its own name.`,
      );
    });

    it('GIVEN a stack whose two VMs reach one VCH through different spellings WHEN planned THEN the engine names both addresses', async () => {
      const spec: StackResource[] = [
        { type: 'container_vm', name: 'a', config: { vch_id: String(vch.id), image_id: String(img.id), name: 'twin' } },
        { type: 'container_vm', name: 'b', config: { vch_id: '${virtual_container_host.x.id}', image_id: String(img.id), name: 'twin' } },
      ];
      const state: StackState = {
        version: 1,
        resources: { 'virtual_container_host.x': { type: 'virtual_container_host', name: 'x', schemaVersion: 1, attrs: vch, dependsOn: [] } },
      };
      // The VCH is only in the state (a spec under change); the spec check sees two different strings.
      const plan = await command((engine) =>
        planStack(
          engine,
          [
            {
              type: 'virtual_container_host',
              name: 'x',
              config: { name: 'vch-dup', compute: '/DC0/host/DC0_C0', datastore: 'LocalDS_0', bridge_network: 'VM Network' },
            },
            ...spec,
          ],
          state,
          { refresh: false },
        ),
      );
      const dup = plan.problems.filter((p) => p.summary === 'Duplicate container_vm');
      expect(dup).toHaveLength(1);
      expect(dup[0].detail).toMatch(/^container_vm\.[ab] and container_vm\.[ab] both declare vch_id = "resgroup-\d+" and name = "twin"/);
    });

    it('GIVEN a container VM another resource holds WHEN a create with its name is planned and applied in a later command THEN both refuse, and the VM is untouched', async () => {
      const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'held', power_state: 'stopped' };
      const held = await command(async (engine) => (await engine.apply(await engine.plan('container_vm', null, config))) as Attrs);
      // vCenter (and the simulator) keep the finished create's mark in a custom field: one SetField, no task.
      const marks = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(held.moid)), ['customValue']);
      expect(customFieldsOf(marks.customValue, await listCustomFieldDefs(outside))).toEqual({ 'vic-iac.created': 'done' });
      expect((await vmExtraConfig(String(held.moid))).get('vic.created')).toBe('pending');
      let plan: PlannedChange | undefined;
      await command(async (engine) => {
        plan = await engine.plan('container_vm', null, { ...config, power_state: 'running' });
        expect(plan.problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['name', 'Container VM held by another resource']]);
        // The most common cause first, with what to run: a state that lost it imports it by its id.
        expect(plan.problems[0].detail).toContain(
          `If no resource holds it any more (its state was lost, or removed with terraform state rm or vic state rm), import it instead of creating it, by its id ${String(held.id)} `,
        );
        // Whatever the plan knew, the create itself refuses.
        await expect(engine.apply({ ...plan, problems: [] })).rejects.toThrow(
          /already exists as vm-\d+, and the create that made it finished: another resource holds it/,
        );
      });
      const rows = await retrieveFromContainer<{ name: string; 'runtime.powerState': string }>(outside, {
        container: outside.serviceContent.rootFolder,
        select: [{ type: 'VirtualMachine', paths: ['name', 'runtime.powerState'] }],
      });
      expect(rows.filter((r) => r.props.name === 'held').map((r) => [r.ref.value, r.props['runtime.powerState']])).toEqual([[held.moid, 'poweredOff']]);
    });
    it('GIVEN a held container VM marked the older way (extraConfig only) WHEN a create with its name is planned and applied THEN both refuse', async () => {
      const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'held-old', power_state: 'stopped' };
      const held = await command(async (engine) => (await engine.apply(await engine.plan('container_vm', null, config))) as Attrs);
      const ref = moRef('VirtualMachine', String(held.moid));
      // As a VM made before the custom field: no field value, `done` in extraConfig.
      const field = (await listCustomFieldDefs(outside)).find((d) => d.name === 'vic-iac.created');
      expect(field).toBeDefined();
      await setCustomField(outside, ref, field!.key, '');
      await reconfigureVm(outside, ref, { extraConfig: { 'vic.created': 'done' } });
      await command(async (engine) => {
        const plan = await engine.plan('container_vm', null, config);
        expect(plan.problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['name', 'Container VM held by another resource']]);
        await expect(engine.apply({ ...plan, problems: [] })).rejects.toThrow(/the create that made it finished: another resource holds it/);
      });
    });

    it('GIVEN a user who may not set custom fields WHEN a container VM is created THEN its create is marked finished in extraConfig, and a second create refuses it', async () => {
      const config: Attrs = { vch_id: vch.id, image_id: img.id, name: 'held-noperm', power_state: 'stopped' };
      await sim().control.addFault({ method: 'SetField', kind: 'soap', fault: 'NoPermission', message: 'injected: no Global.SetCustomField', times: -1 });
      let held: Attrs;
      try {
        held = await command(async (engine) => (await engine.apply(await engine.plan('container_vm', null, config))) as Attrs);
      } finally {
        await sim().control.clearFaults();
      }
      expect((await vmExtraConfig(String(held.moid))).get('vic.created')).toBe('done');
      const marks = await retrieveObject<Record<string, unknown>>(outside, moRef('VirtualMachine', String(held.moid)), ['customValue']);
      expect(customFieldsOf(marks.customValue, await listCustomFieldDefs(outside))).toEqual({});
      await command(async (engine) => {
        const plan = await engine.plan('container_vm', null, config);
        expect(plan.problems.map((p) => [p.path.join('.'), p.summary])).toEqual([['name', 'Container VM held by another resource']]);
      });
    });
  });

  describe('image references resolved at plan, while the VCH is unknown', () => {
    beforeAll(async () => {
      await pushVersion('plan/app', 'v1', 'plan');
      const multi = await writeOciLayout(join(scratch, 'multi'), 'v1', multiPlatformImages);
      await registry().push(multi.dir, 'v1', 'plan/multi:v1');
      await pushVersion('private/app', 'v1', 'private', privateRegistry());
    }, 60_000);

    const config = (over: Attrs): Attrs => ({ vch_id: UNKNOWN, reference: `${registry().host}/plan/app:v1`, insecure_registry: true, ...over });

    it.each<[string, () => Attrs, string, RegExp]>([
      ['a missing tag', () => config({ reference: `${registry().host}/plan/app:nope` }), 'reference', /tag "nope" not found in repository "plan\/app"/],
      ['a missing repository', () => config({ reference: `${registry().host}/plan/none:v1` }), 'reference', /plan\/none/],
      ['an unreachable registry', () => config({ reference: '127.0.0.1:9/plan/app:v1' }), 'reference', /127\.0\.0\.1:9/],
      ['a pinned digest that does not exist', () => config({ reference: `${registry().host}/plan/app@sha256:${'0'.repeat(64)}` }), 'reference', /sha256:0{64}/],
      ['a platform the image lacks', () => config({ reference: `${registry().host}/plan/multi:v1`, platform: 'linux/s390x' }), 'platform', /linux\/s390x/],
      ['a missing ca_file', () => config({ ca_file: join(tmpdir(), 'vic-no-such-ca.pem'), insecure_registry: false }), 'ca_file', /vic-no-such-ca\.pem/],
      [
        'wrong registry credentials',
        () => config({ reference: `${privateRegistry().host}/private/app:v1`, registry_auth: { username: AUTH.username, password: WRONG_PASSWORD } }),
        'registry_auth',
        /private\/app/,
      ],
    ])('GIVEN %s WHEN an image is planned on a VCH not created yet THEN a plan-time error on its attribute', async (_label, make, path, detail) => {
      const plan = await command((engine) => engine.plan('image', null, make()));
      expect(plan.problems.map((p) => p.path.join('.'))).toEqual([path]);
      expect(plan.problems[0].detail).toMatch(detail);
      expect(JSON.stringify(plan.problems)).not.toContain(WRONG_PASSWORD);
    });

    it('GIVEN a good reference WHEN planned twice in one command THEN the digest is known at plan, from one registry round trip', async () => {
      const manifests = () =>
        (
          registry()
            .logs()
            .match(/"(GET|HEAD) \/v2\/plan\/app\/manifests\/v1 /g) ?? []
        ).length;
      const before = manifests();
      const [a, b] = await command(async (engine) => [await engine.plan('image', null, config({})), await engine.plan('image', null, config({}))]);
      expect(a.problems).toEqual([]);
      expect(a.planned?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(a.planned?.id).toBe(a.planned?.digest);
      expect(b.planned?.digest).toBe(a.planned?.digest);
      expect(manifests() - before).toBe(1);
    });
  });
});
