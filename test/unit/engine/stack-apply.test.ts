/**
 * applyStack's ordering over a fake engine (no vSphere): GIVEN a stack plan WHEN applied THEN
 * creates follow references, deletes go in reverse, replacements run in the order their kind needs,
 * and a failure keeps what was done.
 */
import { EMPTY_STATE, applyStack, type StackChange, type StackPlan, type StackResource, type StackState } from '../../../src/engine/stack';
import type { Engine, PlannedChange } from '../../../src/engine/types';
import type { Attrs, ResourceType } from '../../../src/resources';

/** Plans what it is told and applies by logging; images are replaced create-before-destroy, as declared. */
class FakeEngine {
  readonly log: string[] = [];
  private made = 0;
  constructor(private readonly failOn?: string) {}

  plan(type: ResourceType, prior: Attrs | null, config: Attrs | null): Promise<PlannedChange> {
    const action = config === null ? 'delete' : prior === null ? 'create' : 'update';
    return Promise.resolve(change(type, action, prior, config));
  }

  async apply(c: PlannedChange): Promise<Attrs | null> {
    const what = `${c.action} ${c.type} ${label(c.planned ?? c.prior)}`;
    await new Promise((resolve) => setImmediate(resolve));
    if (what === this.failOn) throw new Error('vSphere said no');
    this.log.push(what);
    if (c.action === 'delete') return null;
    return { ...c.planned, id: `${c.type}-${++this.made}` };
  }

  asEngine(): Engine {
    return this as unknown as Engine;
  }
}

function label(attrs: Attrs | null): string {
  return String(attrs?.name ?? attrs?.reference ?? '?');
}

function change(type: ResourceType, action: PlannedChange['action'], prior: Attrs | null, planned: Attrs | null): PlannedChange {
  // As the engine plans it: an image (content-addressed) with a new digest may exist next to the old
  // one; one that keeps its digest (same reference) is replaced destroy-first, like everything else.
  const replaceable = type === 'image' && prior !== null && planned !== null && prior.reference !== planned.reference;
  return { type, action, prior, planned, changes: [], requiresReplace: [], reasons: [], notes: [], problems: [], createBeforeDestroy: replaceable };
}

const vch: StackResource = { type: 'virtual_container_host', name: 'demo', config: { name: 'demo' } };
const img: StackResource = { type: 'image', name: 'busybox', config: { vch_id: '${virtual_container_host.demo.id}', reference: 'busybox:2' } };
const vm = (name: string): StackResource => ({
  type: 'container_vm',
  name,
  config: { vch_id: '${virtual_container_host.demo.id}', image_id: '${image.busybox.id}', name },
});
const spec = [vch, img, vm('web'), vm('db')];

const step = (r: StackResource, action: PlannedChange['action'], prior: Attrs | null, dependsOn: string[]): StackChange => ({
  address: `${r.type}.${r.name}`,
  change: change(r.type, action, prior, action === 'delete' ? null : r.config),
  dependsOn,
});

/** A state where the whole spec was applied once. */
const applied: StackState = {
  version: 1,
  resources: {
    'virtual_container_host.demo': { type: 'virtual_container_host', name: 'demo', schemaVersion: 1, attrs: { id: 'resgroup-1', name: 'demo' }, dependsOn: [] },
    'image.busybox': {
      type: 'image',
      name: 'busybox',
      schemaVersion: 1,
      attrs: { id: 'sha256:old', vch_id: 'resgroup-1', reference: 'busybox:1' },
      dependsOn: ['virtual_container_host.demo'],
    },
    'container_vm.web': {
      type: 'container_vm',
      name: 'web',
      schemaVersion: 1,
      attrs: { id: 'u-web', vch_id: 'resgroup-1', image_id: 'sha256:old', name: 'web' },
      dependsOn: ['virtual_container_host.demo', 'image.busybox'],
    },
    'container_vm.db': {
      type: 'container_vm',
      name: 'db',
      schemaVersion: 1,
      attrs: { id: 'u-db', vch_id: 'resgroup-1', image_id: 'sha256:old', name: 'db' },
      dependsOn: ['virtual_container_host.demo', 'image.busybox'],
    },
  },
};

const plan = (changes: StackChange[], refreshed: StackState): StackPlan => ({ changes, problems: [], refreshed });

describe('applyStack over a fake engine', () => {
  it('GIVEN an empty state WHEN a VCH, an image and two VMs are created THEN each after what it refers to, with the ids just made', async () => {
    const engine = new FakeEngine();
    const states: StackState[] = [];
    const changes = [
      step(vm('web'), 'create', null, ['virtual_container_host.demo', 'image.busybox']),
      step(vm('db'), 'create', null, ['virtual_container_host.demo', 'image.busybox']),
      step(img, 'create', null, ['virtual_container_host.demo']),
      step(vch, 'create', null, []),
    ];
    const state = await applyStack(engine.asEngine(), plan(changes, EMPTY_STATE), spec, { onState: (s) => void states.push(s) });
    expect(engine.log.slice(0, 2)).toEqual(['create virtual_container_host demo', 'create image busybox:2']);
    expect(engine.log.slice(2).sort()).toEqual(['create container_vm db', 'create container_vm web']);
    expect(state.resources['container_vm.web'].attrs).toMatchObject({ vch_id: 'virtual_container_host-1', image_id: 'image-2' });
    expect(state.resources['container_vm.web'].dependsOn).toEqual(['virtual_container_host.demo', 'image.busybox']);
    expect(states).toHaveLength(4);
  });

  it('GIVEN everything removed from the spec WHEN applied THEN the VMs go first, then the image, then the VCH', async () => {
    const engine = new FakeEngine();
    const changes = Object.entries(applied.resources).map(([address, e]): StackChange => ({
      address,
      change: change(e.type, 'delete', e.attrs, null),
      dependsOn: e.dependsOn,
    }));
    const state = await applyStack(engine.asEngine(), plan(changes, applied), [], { concurrency: 4 });
    expect(engine.log.slice(0, 2).sort()).toEqual(['delete container_vm db', 'delete container_vm web']);
    expect(engine.log.slice(2)).toEqual(['delete image busybox:1', 'delete virtual_container_host demo']);
    expect(state.resources).toEqual({});
  });

  it('GIVEN a new image digest with its VMs replaced WHEN applied THEN the new image first, each VM deleted then made on it, the old image last', async () => {
    const engine = new FakeEngine();
    const after = ['virtual_container_host.demo', 'image.busybox'];
    const changes = [
      step(img, 'replace', applied.resources['image.busybox'].attrs, ['virtual_container_host.demo']),
      step(vm('web'), 'replace', applied.resources['container_vm.web'].attrs, after),
      step(vm('db'), 'replace', applied.resources['container_vm.db'].attrs, after),
    ];
    const state = await applyStack(engine.asEngine(), plan(changes, applied), spec, { concurrency: 1 });
    expect(engine.log[0]).toBe('create image busybox:2');
    const web = ['delete container_vm web', 'create container_vm web'].map((e) => engine.log.indexOf(e));
    const db = ['delete container_vm db', 'create container_vm db'].map((e) => engine.log.indexOf(e));
    expect(web[0]).toBeLessThan(web[1]);
    expect(db[0]).toBeLessThan(db[1]);
    expect(engine.log.at(-1)).toBe('delete image busybox:1');
    expect(engine.log).toHaveLength(6);
    expect(state.resources['container_vm.db'].attrs.image_id).toBe(state.resources['image.busybox'].attrs.id);
    expect(Object.keys(state.resources).sort()).toEqual(['container_vm.db', 'container_vm.web', 'image.busybox', 'virtual_container_host.demo']);
  });

  it('GIVEN a VCH replaced destroy-first WHEN applied THEN what stands on it is deleted before it, and made again after it', async () => {
    const engine = new FakeEngine();
    const sameImage: StackResource = { ...img, config: { ...img.config, reference: 'busybox:1' } };
    const changes = [
      step(vch, 'replace', applied.resources['virtual_container_host.demo'].attrs, []),
      step(sameImage, 'replace', applied.resources['image.busybox'].attrs, ['virtual_container_host.demo']),
      step(vm('web'), 'replace', applied.resources['container_vm.web'].attrs, ['virtual_container_host.demo', 'image.busybox']),
    ];
    await applyStack(engine.asEngine(), plan(changes, applied), [vch, sameImage, vm('web')], { concurrency: 4 });
    expect(engine.log).toEqual([
      'delete container_vm web',
      'delete image busybox:1',
      'delete virtual_container_host demo',
      'create virtual_container_host demo',
      'create image busybox:1',
      'create container_vm web',
    ]);
  });

  it('GIVEN an apply that fails midway WHEN it stops THEN its dependents never start, and the error carries the state with what was done', async () => {
    const engine = new FakeEngine('create image busybox:2');
    const changes = [
      step(vch, 'create', null, []),
      step(img, 'create', null, ['virtual_container_host.demo']),
      step(vm('web'), 'create', null, ['virtual_container_host.demo', 'image.busybox']),
    ];
    const failure = await applyStack(engine.asEngine(), plan(changes, EMPTY_STATE), [vch, img, vm('web')]).then(
      () => new Error('the apply succeeded') as Error & { state?: StackState },
      (e: unknown) => e as Error & { state?: StackState },
    );
    expect(failure.message).toBe('apply failed; what was done is kept in the state:\nimage.busybox: vSphere said no');
    expect(engine.log).toEqual(['create virtual_container_host demo']);
    expect(Object.keys(failure.state?.resources ?? {})).toEqual(['virtual_container_host.demo']);
    // A destroy applies its plan too: its failure is called what the user ran.
    const destroying = await applyStack(new FakeEngine('create image busybox:2').asEngine(), plan(changes, EMPTY_STATE), [vch, img, vm('web')], {
      command: 'destroy',
    }).catch((e: unknown) => e as Error);
    expect((destroying as Error).message).toBe('destroy failed; what was done is kept in the state:\nimage.busybox: vSphere said no');
  });

  it('GIVEN changes that wait for each other WHEN applied THEN nothing is done and the error names them', async () => {
    const engine = new FakeEngine();
    const a: StackResource = { type: 'virtual_container_host', name: 'a', config: { name: 'a' } };
    const b: StackResource = { type: 'virtual_container_host', name: 'b', config: { name: 'b' } };
    const changes = [step(a, 'create', null, ['virtual_container_host.b']), step(b, 'create', null, ['virtual_container_host.a'])];
    await expect(applyStack(engine.asEngine(), plan(changes, EMPTY_STATE), [a, b])).rejects.toThrow(
      'cannot order the remaining changes: virtual_container_host.a, virtual_container_host.b',
    );
    expect(engine.log).toEqual([]);
  });
});
