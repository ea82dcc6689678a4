/** Planning's pure half: GIVEN prior state and config WHEN diffed THEN the action and reasons are right. */
import { Attrs, UNKNOWN, containerVm, image, validateAttrs, virtualContainerHost } from '../../../src/resources';
import { approvedChange, diffResource, sameValue, withStateOnlyChanges } from '../../../src/engine/diff';
import type { AttributeChange, PlannedChange } from '../../../src/engine/types';

const digest = `sha256:${'b'.repeat(64)}`;
const cfg = (over: Attrs = {}) => validateAttrs(containerVm.schema, { vch_id: 'resgroup-9', image_id: digest, name: 'web-1', ...over }).attrs;
const state = (over: Attrs = {}): Attrs => ({
  ...cfg(),
  id: 'u-1',
  moid: 'vm-1',
  ip_addresses: [],
  vm_path: '[ds] web-1/web-1.vmx',
  networks: ['VM Network'],
  ...over,
});

describe('diffResource', () => {
  it('GIVEN no prior state WHEN planned THEN create, with computed outputs unknown', () => {
    const d = diffResource(containerVm, null, cfg());
    expect(d.action).toBe('create');
    expect(d.planned?.id).toBe(UNKNOWN);
    expect(d.planned?.networks).toBe(UNKNOWN);
    expect(d.planned?.memory_mb).toBe(512);
  });

  it('GIVEN state equal to config WHEN planned THEN no-op, and computed inputs keep their prior value', () => {
    const d = diffResource(containerVm, state(), cfg());
    expect(d.action).toBe('no-op');
    expect(d.planned?.networks).toEqual(['VM Network']);
    expect(d.planned?.moid).toBe('vm-1');
  });

  it.each([
    [
      'secret_env on a container VM (replace)',
      containerVm,
      state({ secret_env: { TOKEN: 'old-S3cret' } }),
      cfg({ secret_env: { TOKEN: 'new-S3cret' } }),
      'secret_env: (sensitive value) changed (forces replacement)',
    ],
    [
      'registry_auth.password on an image (update)',
      image,
      { vch_id: 'resgroup-9', reference: 'r.example/app:1', registry_auth: { username: 'u', password: 'old-S3cret' } },
      { vch_id: 'resgroup-9', reference: 'r.example/app:1', registry_auth: { username: 'u', password: 'new-S3cret' } },
      'registry_auth: (sensitive value) changed',
    ],
  ] as const)('GIVEN a changed sensitive value (%s) WHEN planned THEN the reason names the attribute, never a value', (_l, decl, prior, config, reason) => {
    const d = diffResource(decl, prior as Attrs, config as Attrs);
    expect(d.reasons).toEqual([reason]);
    expect(JSON.stringify(d.reasons)).not.toContain('S3cret');
  });

  it('GIVEN a VM powered off outside WHEN planned THEN an in-place update that says why', () => {
    const d = diffResource(containerVm, state({ power_state: 'stopped' }), cfg());
    expect(d.action).toBe('update');
    expect(d.reasons).toEqual(['power_state: "stopped" → "running"']);
    expect(d.requiresReplace).toEqual([]);
  });

  it('GIVEN a forceNew attribute changed WHEN planned THEN replace, naming the attribute', () => {
    const d = diffResource(containerVm, state(), cfg({ command: ['echo', 'hi'] }));
    expect(d.action).toBe('replace');
    expect(d.requiresReplace).toEqual([['command']]);
    expect(d.reasons).toEqual(['command: null → ["echo","hi"] (forces replacement)']);
    expect(d.planned?.moid).toBe(UNKNOWN);
  });

  it('GIVEN both kinds of change WHEN planned THEN replace wins and both reasons are listed', () => {
    const d = diffResource(containerVm, state(), cfg({ cpus: 2, hostname: 'h' }));
    expect(d.action).toBe('replace');
    expect(d.reasons).toHaveLength(2);
  });

  it('GIVEN the config removed WHEN planned THEN delete; GIVEN neither THEN no-op', () => {
    expect(diffResource(containerVm, state(), null).action).toBe('delete');
    expect(diffResource(containerVm, null, null).action).toBe('no-op');
  });

  it('GIVEN a VCH limit changed WHEN planned THEN update in place', () => {
    const vcfg = validateAttrs(virtualContainerHost.schema, { name: 'v', compute: 'c', datastore: 'd' }).attrs;
    const prior = {
      ...vcfg,
      id: 'resgroup-1',
      image_store_path: 'v',
      bootstrap_iso: null,
      resource_pool_id: 'resgroup-1',
      folder_id: 'group-1',
      image_store: '[d] v',
    };
    const d = diffResource(virtualContainerHost, prior, { ...vcfg, memory_limit_mb: 1024 });
    expect(d.action).toBe('update');
    expect(d.planned?.image_store_path).toBe('v');
  });

  it.each([
    [null, [], true],
    [{}, null, true],
    [['a'], ['a'], true],
    [['a'], ['b'], false],
    [{ a: '1' }, { a: '1' }, true],
    [{ a: '1' }, { a: '2' }, false],
    [1, '1', false],
  ])('GIVEN %j and %j WHEN compared THEN same=%s', (a, b, same) => {
    expect(sameValue(a as never, b as never)).toBe(same);
  });
});

describe('approvedChange', () => {
  it('GIVEN no prior WHEN a front end applies an approved plan THEN create, with no attribute changes', () => {
    const c = approvedChange('container_vm', null, state());
    expect(c).toMatchObject({ type: 'container_vm', action: 'create', prior: null, changes: [], reasons: [], problems: [] });
  });

  it('GIVEN no planned state THEN delete', () => {
    expect(approvedChange('container_vm', state(), null).action).toBe('delete');
  });

  it('GIVEN prior and planned THEN update, listing each changed attribute of the declaration with its forceNew flag', () => {
    const c = approvedChange('container_vm', state(), state({ memory_mb: 1024, labels: { tier: 'web' }, not_in_schema: 'x' }));
    expect(c.action).toBe('update');
    expect(c.changes).toEqual([
      { path: ['memory_mb'], before: 512, after: 1024, forceNew: false },
      { path: ['labels'], before: null, after: { tier: 'web' }, forceNew: false },
    ]);
    expect(c.reasons).toEqual(['memory_mb changed', 'labels changed']);
  });

  it('GIVEN a forceNew attribute that differs THEN the change says so (null and empty count as equal)', () => {
    const c = approvedChange('container_vm', state({ env: null }), state({ env: {}, name: 'web-2' }));
    expect(c.changes).toEqual([{ path: ['name'], before: 'web-1', after: 'web-2', forceNew: true }]);
  });
});

describe('state-only changes', () => {
  const imageState: Attrs = {
    ...validateAttrs(image.schema, { vch_id: 'resgroup-9', reference: `reg.example/app:1@${digest}` }).attrs,
    id: digest,
    digest,
  };

  it('GIVEN an input vSphere does not hold (configOnly) changed WHEN diffed THEN the change is marked state-only; a real change is not', () => {
    const config = validateAttrs(image.schema, { vch_id: 'resgroup-9', reference: `reg.example/app:1@${digest}`, insecure_registry: true }).attrs;
    const d = diffResource(image, imageState, config);
    expect(d.action).toBe('update');
    expect(d.changes).toEqual([expect.objectContaining({ path: ['insecure_registry'], stateOnly: true })]);
    const vm = diffResource(containerVm, state(), cfg({ memory_mb: 1024 }));
    expect(vm.changes).toEqual([expect.not.objectContaining({ stateOnly: true })]);
  });

  it('GIVEN an imported state and a plan with state-only and real changes WHEN folded THEN only the state-only values come from the plan', () => {
    const planned = { ...imageState, reference: 'reg.example/app:1', insecure_registry: true, size_mb: 64 };
    const changes: AttributeChange[] = [
      { path: ['reference'], before: imageState.reference, after: 'reg.example/app:1', forceNew: false, stateOnly: true },
      { path: ['insecure_registry'], before: false, after: true, forceNew: false, stateOnly: true },
      { path: ['size_mb'], before: null, after: 64, forceNew: true },
    ];
    const change: PlannedChange = { ...approvedChange('image', imageState, planned), changes };
    expect(withStateOnlyChanges(imageState, change)).toEqual({ ...imageState, reference: 'reg.example/app:1', insecure_registry: true });
    // A value not known yet is never written into the state.
    expect(withStateOnlyChanges(imageState, { ...change, planned: { ...planned, reference: UNKNOWN } }).reference).toBe(imageState.reference);
  });
});
